import { parseArgs } from 'node:util';
import { createGateway } from '../gateway.ts';
import { proxyConfig } from './proxy-config.ts';
import { runUntilSignalled } from './run-gateway.ts';
import { parseWorkers, runCluster } from './workers.ts';

const USAGE = `Usage: sluice proxy --listen PORT --to URL [--to URL …] [--admin PORT] [--host ADDR] [--max-body-size SIZE] [--no-access-log] [--no-metrics] [--workers N|auto]
  LISTEN_PORT, UPSTREAM_URL (comma-separated) and WORKERS are used when the flags are absent;
  SLUICE_ACCESS_LOG=false and SLUICE_METRICS=false turn the access log and per-request metrics off.
`;

export async function runProxy(argv: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', short: 'l' },
      to: { type: 'string', short: 't', multiple: true },
      admin: { type: 'string' },
      host: { type: 'string' },
      'no-access-log': { type: 'boolean' },
      'no-metrics': { type: 'boolean' },
      'max-body-size': { type: 'string' },
      workers: { type: 'string', short: 'w' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const listen = values.listen ?? process.env.LISTEN_PORT;
  const to = values.to ?? process.env.UPSTREAM_URL?.split(',').map((s) => s.trim()).filter(Boolean);
  if (listen === undefined || to === undefined || to.length === 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = proxyConfig({
    listen: Number(listen),
    host: values.host ?? '0.0.0.0',
    to,
    admin: values.admin === undefined ? undefined : Number(values.admin),
    accessLog: values['no-access-log'] !== true && process.env.SLUICE_ACCESS_LOG !== 'false',
    metrics: values['no-metrics'] !== true && process.env.SLUICE_METRICS !== 'false',
    maxBodySize: values['max-body-size'],
  });
  const workers = parseWorkers(values.workers ?? process.env.WORKERS);
  if (workers > 1) return runCluster(config, workers, {});
  const gateway = await createGateway(config);
  await gateway.start();
  runUntilSignalled(gateway);
  return undefined;
}
