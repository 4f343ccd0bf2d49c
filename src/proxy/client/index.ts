/** The upstream clients (HTTP/1.1 raw or undici, HTTP/2): one pool per target, behind the TargetPool interface. */
export { createRawPool } from './raw-pool.ts';
export { createUndiciPool } from './undici-pool.ts';
export type {
  CallHandle,
  FailureInfo,
  PoolFactory,
  PoolOptions,
  PoolStats,
  ResponseHandler,
  TargetPool,
  UpstreamCall,
} from './types.ts';
export { createH2Pool } from './h2-pool.ts';
