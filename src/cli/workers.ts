import { availableParallelism } from 'node:os';
import { WorkerPool } from '../cluster/primary.ts';
import { createGateway, type GatewayOptions } from '../gateway.ts';
import { Logging } from '../observability/logging.ts';
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
  const { reload, logger: injected, accessLogSink, ...gatewayOptions } = options;
  // Created before the gateway so the worker pool logs through it (module "cluster") from the start.
  const logging = new Logging({ ...(injected === undefined ? {} : { logger: injected }), ...(accessLogSink === undefined ? {} : { accessLogSink }) });
  const pool = new WorkerPool({ count, baseDir: options.baseDir ?? process.cwd(), logger: logging.module('cluster') });
  const gateway = await createGateway(raw, { ...gatewayOptions, logging, workers: pool });
  const logger = gateway.logger;
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
