/**
 * CPU pinning and accounting (Linux). The layout mirrors ../shared/bench/run.sh: the gateway alone
 * on core 0, the load generator and the upstream on core 1, so the gateway's figures are what one
 * core buys and do not depend on how the scheduler mixes it with the load.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

let tasksetOk: boolean | undefined;

export function hasTaskset(): boolean {
  tasksetOk ??= spawnSync('taskset', ['-V'], { stdio: 'ignore', timeout: 2000 }).status === 0;
  return tasksetOk;
}

// Read once at load: after pinProcess() this process would only see the one core it is pinned to.
const CPUS = os.availableParallelism();

export function cpuCount(): number {
  return CPUS;
}

/** Pinning needs taskset and two cores; otherwise everything floats. */
export function canPin(): boolean {
  return cpuCount() >= 2 && hasTaskset();
}

/** Pin every thread of a running process (ours: the upstream and libuv's pool too). */
export function pinProcess(pid: number, core: number): boolean {
  const r = spawnSync('taskset', ['-a', '-cp', String(core), String(pid)], { stdio: 'ignore', timeout: 2000 });
  return r.status === 0;
}

/** argv prefix that starts a command pinned to `core`, or nothing when not pinning. */
export function pinPrefix(core: number | null): string[] {
  return core === null ? [] : ['taskset', '-c', String(core)];
}

let clkTck: number | undefined;

function ticksPerSecond(): number {
  if (clkTck === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 });
    clkTck = Number(r.stdout) > 0 ? Number(r.stdout) : 100;
  }
  return clkTck;
}

/** User + system CPU seconds used so far by a process (all its threads), or null if unknown. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** Direct children of a process (e.g. cluster workers), read before signalling it. */
export function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** Busy and total jiffies of one core from /proc/stat; busy includes irq/softirq (network stack). */
export function coreTimes(core: number): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n').find((l) => l.startsWith(`cpu${core} `));
    if (!line) return null;
    // user nice system idle iowait irq softirq steal ...
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1, 9).map(Number);
    const busy = user! + nice! + system! + irq! + softirq!;
    return { busy, total: busy + idle! + iowait! + steal! };
  } catch {
    return null;
  }
}
