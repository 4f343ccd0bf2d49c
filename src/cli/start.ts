import { parseArgs } from 'node:util';
import { defaultConfig } from '../config/default-config.ts';
import { applyEnvOverrides } from '../config/index.ts';
import { createGateway } from '../gateway.ts';
import { startEchoUpstream } from '../server/echo-upstream.ts';
import { readConfigFile } from './config-file.ts';
import { runUntilSignalled } from './run-gateway.ts';

export async function runStart(argv: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write('Usage: sluice start [-c FILE]\n  Without -c, runs the embedded demo config (:8080, admin 127.0.0.1:9901).\n');
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
  const gateway = await createGateway(raw, { baseDir });
  await gateway.start();
  runUntilSignalled(gateway, async () => {
    const next = await readConfigFile(path);
    await gateway.reload(next.raw);
  });
  return undefined;
}
