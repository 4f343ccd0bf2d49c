/**
 * `npm run bench`: Sluice's own load test (the seed of `sluice bench`). Prints a markdown table
 * to stdout, progress to stderr, and writes the full report as JSON under bench/results/.
 * See bench/README.md.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { estimateSeconds, parseBenchOptions, USAGE, type BenchOptions } from '../src/bench/options.ts';
import { markdownTable } from '../src/bench/report.ts';
import { BenchRun } from '../src/bench/runner.ts';

const log = (line: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

async function main(): Promise<number> {
  let opts: BenchOptions | 'help';
  try {
    opts = parseBenchOptions(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const bench = new BenchRun(opts, log);
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130); // second Ctrl-C: give up on a clean stop
    interrupted = true;
    log('interrupted: stopping the gateway and the load generator');
    void bench.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  log(`${bench.layout}`);
  log(`targets: ${opts.targets.map((t) => (t === 'direct' ? t : `${t} = ${opts.commands[t]}`)).join(', ')}`);
  log(`scenarios: ${opts.scenarios.join(' ')}; ${opts.reps} rep(s) × ${opts.warmupS}+${opts.durationS} s, ` +
    `${opts.connections} connections; ~${Math.ceil(estimateSeconds(opts))} s of load`);
  const report = await bench.run();

  const file = path.join(opts.resultsDir, `bench-${report.meta.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${markdownTable(report.summary)}\n\n`);
  process.stdout.write(`${report.meta.layout}; node ${report.meta.node}, ${report.meta.cpus} CPUs (${report.meta.cpuModel})\n`);
  process.stdout.write(`JSON: ${file}\n`);
  const failed = report.records.some((r) => r.failure) || report.summary.some((r) => r.errors > 0);
  return interrupted ? 130 : failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
