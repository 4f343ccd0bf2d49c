import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../config/default-config.ts';
import { applyEnvOverrides } from '../config/index.ts';
import { createGateway } from '../gateway.ts';
import { startEchoUpstream } from '../server/echo-upstream.ts';
import { readConfigFile } from './config-file.ts';
import { runUntilSignalled } from './run-gateway.ts';

const USAGE = `Usage: sluice start [-c FILE] [--no-watch]
  Without -c (and without SLUICE_CONFIG), runs the embedded demo config (:8080, admin 127.0.0.1:9901).
  The config file and the files it references are watched and reloaded on change (--no-watch to disable);
  SIGHUP reloads too.
`;

export async function runStart(argv: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, 'no-watch': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const path = values.config ?? process.env.SLUICE_CONFIG;
  if (path === undefined) {
    const echo = await startEchoUpstream();
    const gateway = await createGateway(applyEnvOverrides(defaultConfig(echo.url), process.env));
    await gateway.start();
    gateway.logger.info({ echo: echo.url }, 'running the embedded demo config: try curl -i http://127.0.0.1:8080/hello');
    runUntilSignalled(gateway);
    return undefined;
  }
  const { raw, baseDir } = await readConfigFile(path);
  const gateway = await createGateway(raw, {
    baseDir,
    readConfigFile: async () => (await readConfigFile(path)).raw,
    ...(values['no-watch'] === true ? {} : { watchFiles: [resolve(path)] }),
  });
  await gateway.start();
  runUntilSignalled(gateway, () => gateway.reloadFile('signal', 'SIGHUP'));
  return undefined;
}
