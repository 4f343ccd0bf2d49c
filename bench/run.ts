/**
 * `npm run bench`: Sluice's own load test (the seed of `sluice bench`). Prints a markdown table
 * to stdout, progress to stderr, and writes the full report as JSON under bench/results/.
 * See bench/README.md.
 */
import { runBench } from '../src/bench/cli.ts';

const main = (): Promise<number> => runBench(process.argv.slice(2), process.env);

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
