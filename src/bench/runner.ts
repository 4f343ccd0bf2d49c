/**
 * Orchestrates a bench run: reference upstream in this process, load generator in a child, each
 * gateway target in a child started once per rep; reps interleave targets so drift on a shared
 * machine hits every target alike. Layout when pinning: gateway on core 0; this process (the
 * upstream) and the load generator on core 1 — `direct` is then the ceiling for that core.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canPin, coreTimes, cpuCount, pinProcess, processCpuSeconds } from './cpu.ts';
import { startGateway, type GatewayProcess } from './gateway-process.ts';
import { LoadChild } from './load-child.ts';
import type { BenchOptions } from './options.ts';
import { startReferenceUpstream, type ReferenceUpstream } from './reference-upstream.ts';
import { summarize, type RunRecord, type SummaryRow } from './report.ts';

export const GATEWAY_CORE = 0;
export const LOAD_CORE = 1;

export interface BenchReport {
  meta: { date: string; node: string; platform: string; cpus: number; cpuModel: string; layout: string };
  options: BenchOptions;
  records: RunRecord[];
  summary: SummaryRow[];
}

type Log = (line: string) => void;

export class BenchRun {
  private upstream: ReferenceUpstream | null = null;
  private load: LoadChild | null = null;
  private gateway: GatewayProcess | null = null;
  private aborted = false;
  private readonly pinned: boolean;

  constructor(private readonly o: BenchOptions, private readonly log: Log) {
    this.pinned = o.pin && canPin();
  }

  get layout(): string {
    return this.pinned
      ? `pinned: gateway on core ${GATEWAY_CORE}; load generator and upstream on core ${LOAD_CORE}`
      : 'unpinned (taskset missing, fewer than 2 cores, or PIN=0)';
  }

  async run(): Promise<BenchReport> {
    const o = this.o;
    const logDir = path.join(o.resultsDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    if (this.pinned && !pinProcess(process.pid, LOAD_CORE)) this.log('warning: could not pin this process');
    this.upstream = await startReferenceUpstream();
    const records: RunRecord[] = [];
    try {
      for (let rep = 1; rep <= o.reps && !this.aborted; rep++) {
        for (const target of o.targets) {
          if (this.aborted) break;
          records.push(...(await this.runTarget(rep, target, logDir)));
        }
      }
    } finally {
      await this.shutdown();
    }
    return {
      meta: {
        date: new Date().toISOString(), node: process.version, platform: `${os.platform()} ${os.release()}`,
        cpus: cpuCount(), cpuModel: os.cpus()[0]?.model ?? 'unknown', layout: this.layout,
      },
      options: o,
      records,
      summary: summarize(records, o.scenarios, o.targets),
    };
  }

  /** Stop whatever is running (SIGINT handler); run() then returns what it has. */
  async abort(): Promise<void> {
    this.aborted = true;
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    const [gw, load, up] = [this.gateway, this.load, this.upstream];
    this.gateway = this.load = this.upstream = null;
    await gw?.stop();
    await load?.close();
    await up?.close();
  }

  private async runTarget(rep: number, target: string, logDir: string): Promise<RunRecord[]> {
    const o = this.o;
    let base = this.upstream!.url;
    if (target !== 'direct') {
      try {
        this.gateway = await startGateway({
          name: target, command: o.commands[target]!, upstreamUrl: this.upstream!.url, port: 0,
          core: this.pinned ? GATEWAY_CORE : null, readyTimeoutMs: o.readyTimeoutS * 1000,
          logFile: path.join(logDir, `${target}.log`),
        });
      } catch (err) {
        const failure = (err as Error).message;
        this.log(`r${rep} ${target}: FAILED to start\n${failure}`);
        return o.scenarios.map((scenario) => ({
          rep, target, scenario, failure, gatewayCpuPct: null, loadCpuPct: null, coreBusyPct: null,
          upstreamConnections: null,
        }));
      }
      base = this.gateway.url;
    }
    const out: RunRecord[] = [];
    try {
      for (const scenario of o.scenarios) {
        if (this.aborted) break;
        out.push(await this.measure(rep, target, scenario, base));
      }
    } finally {
      const gw = this.gateway;
      this.gateway = null;
      await gw?.stop();
    }
    return out;
  }

  private async measure(rep: number, target: string, scenario: string, url: string): Promise<RunRecord> {
    const o = this.o;
    let load: LoadChild;
    try {
      if (!this.load?.alive) this.load = await LoadChild.start(this.pinned ? LOAD_CORE : null);
      load = this.load;
    } catch (err) {
      return this.failed(rep, target, scenario, err);
    }
    // Counters are sampled when warmup ends and when the load stops, so they cover the measured window.
    const sample = (): Sample => ({
      at: performance.now(),
      gw: this.gateway ? processCpuSeconds(this.gateway.pid) : null,
      cores: this.pinned ? [coreTimes(GATEWAY_CORE), coreTimes(LOAD_CORE)] : null,
      conns: this.upstream!.stats().connections,
    });
    let begin: Sample | null = null;
    const timer = setTimeout(() => (begin = sample()), o.warmupS * 1000);
    try {
      const result = await load.run({
        url, scenario, connections: o.connections, durationMs: o.durationS * 1000, warmupMs: o.warmupS * 1000,
      });
      const rec = { rep, target, scenario, load: result, ...windowStats(begin, sample()) };
      this.log(describe(rec));
      return rec;
    } catch (err) {
      return this.failed(rep, target, scenario, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private failed(rep: number, target: string, scenario: string, err: unknown): RunRecord {
    const failure = (err as Error).message;
    this.log(`r${rep} ${target} ${scenario}: FAILED ${failure}`);
    return {
      rep, target, scenario, failure, gatewayCpuPct: null, loadCpuPct: null, coreBusyPct: null, upstreamConnections: null,
    };
  }
}

interface Sample {
  at: number;
  gw: number | null;
  cores: Array<{ busy: number; total: number } | null> | null;
  conns: number;
}

function windowStats(begin: Sample | null, end: Sample) {
  if (!begin) return { gatewayCpuPct: null, loadCpuPct: null, coreBusyPct: null, upstreamConnections: null };
  const seconds = (end.at - begin.at) / 1000;
  const busy = (i: number): number | null => {
    const [a, b] = [begin.cores?.[i], end.cores?.[i]];
    return a && b && b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * 100 : null;
  };
  const cores = begin.cores ? [busy(0), busy(1)] : null;
  return {
    gatewayCpuPct: begin.gw !== null && end.gw !== null ? ((end.gw - begin.gw) / seconds) * 100 : null,
    loadCpuPct: cores?.[LOAD_CORE] ?? null,
    coreBusyPct: cores,
    upstreamConnections: end.conns - begin.conns,
  };
}

function describe(r: RunRecord): string {
  const l = r.load!;
  const pct = (v: number | null) => (v === null ? '–' : `${Math.round(v)}%`);
  const cores = r.coreBusyPct ? ` core-busy=${r.coreBusyPct.map(pct).join('/')}` : '';
  // Nothing of ours runs on the gateway core during `direct`: anything there is another process.
  const noisy = r.target === 'direct' && (r.coreBusyPct?.[GATEWAY_CORE] ?? 0) > 20
    ? ` WARNING: core ${GATEWAY_CORE} busy with other processes, figures unreliable` : '';
  const cpu = ` gw-cpu=${pct(r.gatewayCpuPct)}${cores}`;
  const samples = l.errorSamples.length ? ` (${l.errorSamples.join('; ')})` : '';
  return `r${r.rep} ${r.target} ${r.scenario}: ${Math.round(l.rps)} req/s p50=${l.latencyMs.p50}ms ` +
    `p99=${l.latencyMs.p99}ms errors=${l.errorTotal} non2xx=${l.non2xx}${cpu} up-conns=${r.upstreamConnections}${samples}${noisy}`;
}
