/** The upstream HTTP/1.1 client: one keep-alive pool per target, behind the TargetPool interface. */
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
