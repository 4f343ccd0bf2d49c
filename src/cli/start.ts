import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../config/default-config.ts';
import { applyEnvOverrides } from '../config/index.ts';
import { createGateway } from '../gateway.ts';
import { startEchoUpstream } from '../server/echo-upstream.ts';
import { readConfigFile } from './config-file.ts';
import { runUntilSignalled } from './run-gateway.ts';
import { parseWorkers, runCluster } from './workers.ts';

const USAGE = `Usage: sluice start [-c FILE] [--no-watch] [--workers N|auto]
  Without -c (and without SLUICE_CONFIG), runs the embedded demo config (:8080, admin 127.0.0.1:9901).
  The config file and the files it references are watched and reloaded on change (--no-watch to disable);
  SIGHUP reloads too.
  --workers N|auto   serve traffic from N processes on the same ports (auto: one per core; default 1,
                     or SLUICE_WORKERS); this process then runs the admin API and coordinates them.
`;

export async function runStart(argv: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, 'no-watch': { type: 'boolean' }, workers: { type: 'string', short: 'w' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const workersFlag = values.workers ?? process.env.SLUICE_WORKERS;
  const path = values.config ?? process.env.SLUICE_CONFIG;
  if (path === undefined) {
    const workers = parseWorkers(workersFlag);
    // The echo upstream runs in this process; workers reach it over loopback like any target.
    const echo = await startEchoUpstream();
    const demo = applyEnvOverrides(defaultConfig(echo.url), process.env);
    if (workers > 1) return runCluster(demo, workers, {});
    const gateway = await createGateway(demo);
    await gateway.start();
    gateway.logger.info({ echo: echo.url }, 'running the embedded demo config: try curl -i http://127.0.0.1:8080/hello');
    runUntilSignalled(gateway);
    return undefined;
  }
  const { raw, baseDir } = await readConfigFile(path);
  const fromFile = (raw as { workers?: unknown } | null)?.workers;
  const workers = parseWorkers(workersFlag ?? (fromFile === undefined ? undefined : String(fromFile)));
  const options = {
    baseDir,
    readConfigFile: async () => (await readConfigFile(path)).raw,
    ...(values['no-watch'] === true ? {} : { watchFiles: [resolve(path)] }),
  };
  if (workers > 1) return runCluster(raw, workers, { ...options, reload: true });
  const gateway = await createGateway(raw, options);
  await gateway.start();
  runUntilSignalled(gateway, () => gateway.reloadFile('signal', 'SIGHUP'));
  return undefined;
}
