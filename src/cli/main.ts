import cluster from 'node:cluster';
import { runWorker } from '../cluster/worker.ts';
import { runBenchCommand } from './bench.ts';
import { runProxy } from './proxy.ts';
import { runSchema } from './schema.ts';
import { runStart } from './start.ts';
import { runValidate } from './validate.ts';

const USAGE = `Usage: sluice <command> [options]

Commands:
  start [-c FILE] [--workers N]   Run the gateway (embedded demo config when no file is given);
                                  --workers N|auto serves from N processes on the same ports
  validate -c FILE                Check a config file; exit 1 and list every error with its JSON path
  proxy --listen PORT --to URL…   One-line reverse proxy to the given targets (round robin)
  schema                          Print the config JSON Schema (for editors)
  bench [--targets …] [--help]    Built-in load test of this gateway against a reference upstream

Run "sluice <command> --help" for a command's options.
`;

/** Returns the exit code for one-shot commands; long-running ones resolve undefined. */
export async function main(argv: string[]): Promise<number | undefined> {
  // A cluster worker re-runs this CLI; it takes its config from the primary, not from argv.
  if (cluster.isWorker) {
    runWorker();
    return undefined;
  }
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return runStart(rest);
    case 'validate':
      return runValidate(rest);
    case 'proxy':
      return runProxy(rest);
    case 'schema':
      return runSchema();
    case 'bench':
      return runBenchCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`sluice: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
