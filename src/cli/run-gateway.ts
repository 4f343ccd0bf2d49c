import type { Gateway } from '../gateway.ts';
import { flushLogger } from '../observability/logger.ts';

/**
 * Keep a started gateway running until SIGTERM/SIGINT (graceful drain), and reload on SIGHUP when
 * a reload function is given. A second signal while draining exits at once.
 */
export function runUntilSignalled(gateway: Gateway, reload?: () => Promise<unknown>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    gateway.logger.info({ signal }, 'draining');
    const deadline = process.env.SLUICE_DRAIN_DEADLINE_MS;
    gateway.stop(deadline === undefined ? {} : { deadlineMs: Number(deadline) }).then(
      () => {
        flushLogger(gateway.logger);
        process.exit(0);
      },
      (error: unknown) => {
        gateway.logger.error({ err: error }, 'stop failed');
        flushLogger(gateway.logger);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (reload !== undefined) {
    process.on('SIGHUP', () => {
      // Rejections are logged by the config manager with every error; nothing else to do here.
      reload().catch((error: unknown) => gateway.logger.error({ err: error }, 'reload failed'));
    });
  }
}
