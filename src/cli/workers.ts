import { availableParallelism } from 'node:os';
import { WorkerPool } from '../cluster/primary.ts';
import { createGateway, type GatewayOptions } from '../gateway.ts';
import { createLogger } from '../observability/logger.ts';
import { runUntilSignalled } from './run-gateway.ts';

/** `--workers N|auto` (or its env variable): how many processes serve traffic; 1 = no cluster. */
export function parseWorkers(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--workers must be a positive integer or "auto" (got "${value}")`);
  return n;
}

/**
 * Multi-process mode: this process runs the control plane (config, admin API, file watch, SIGHUP,
 * drain coordination) and `count` cluster workers serve the public listeners on the same ports.
 */
export async function runCluster(raw: unknown, count: number, options: GatewayOptions & { reload?: boolean }): Promise<undefined> {
  const logger = options.logger ?? createLogger({ level: 'info' });
  const { reload, ...gatewayOptions } = options;
  const pool = new WorkerPool({ count, baseDir: options.baseDir ?? process.cwd(), logger });
  const gateway = await createGateway(raw, { ...gatewayOptions, logger, workers: pool });
  try {
    await pool.start();
    await gateway.start();
  } catch (error) {
    await gateway.stop({ drainDelayMs: 0, deadlineMs: 0 });
    throw error;
  }
  logger.info({ workers: count }, 'workers started');
  runUntilSignalled(gateway, reload === true ? () => gateway.reloadFile('signal', 'SIGHUP') : undefined);
  return undefined;
}
