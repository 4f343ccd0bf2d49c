/**
 * The built-in load test: a markdown table to stdout, progress to stderr, the full report as JSON
 * under the results directory. See bench/README.md.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { estimateSeconds, parseBenchOptions, USAGE, type BenchOptions } from './options.ts';
import { markdownTable } from './report.ts';
import { BenchRun } from './runner.ts';

const log = (line: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

/** `npm run bench` and `sluice bench`: returns the exit code. */
export async function runBench(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let opts: BenchOptions | 'help';
  try {
    opts = parseBenchOptions(argv, env);
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

