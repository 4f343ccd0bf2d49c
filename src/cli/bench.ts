import { runBench } from '../bench/cli.ts';

/**
 * `sluice bench`: the built-in load test. The gateway under test defaults to this very CLI in
 * proxy mode (same node, same loader flags), so it works from a checkout and from an install.
 */
export function runBenchCommand(argv: string[]): Promise<number> {
  const self = [process.execPath, ...process.execArgv, process.argv[1]!].map((part) => JSON.stringify(part)).join(' ');
  return runBench(argv, { CANDIDATE_CMD: `${self} proxy`, ...process.env });
}
