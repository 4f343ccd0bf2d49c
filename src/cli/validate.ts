import { parseArgs } from 'node:util';
import { ConfigError, formatIssues } from '../config/index.ts';
import { validateGatewayConfig } from '../gateway.ts';
import { readConfigFile } from './config-file.ts';

export async function runValidate(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } } });
  if (values.config === undefined) {
    process.stderr.write('Usage: sluice validate -c FILE\n');
    return 2;
  }
  try {
    const { raw, baseDir } = await readConfigFile(values.config);
    await validateGatewayConfig(raw, [], baseDir);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${values.config}: ${error.issues.length} error(s)\n${formatIssues(error.issues)}\n`);
      return 1;
    }
    throw error;
  }
  process.stdout.write(`${values.config}: ok\n`);
  return 0;
}
