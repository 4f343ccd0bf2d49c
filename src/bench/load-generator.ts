/**
 * Closed-loop HTTP/1.1 load generator on raw net sockets: N connections, one request in flight
 * on each (no pipelining), like wrk. Only complete, well-framed responses of the expected size are
 * counted; latency is taken per request with process.hrtime.bigint into a log-linear histogram.
 */
import net from 'node:net';
import { LatencyHistogram } from './histogram.ts';
import { ProtocolError, ResponseParser } from './response-parser.ts';
import { buildRequest, type Scenario } from './scenarios.ts';

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 (plain HTTP only). */
  url: string;
  scenario: Scenario;
  connections: number;
  durationMs: number;
  /** Load applied before measuring (same connections), so JITs and pools are warm. */
  warmupMs: number;
  /** A request unanswered for this long counts as a timeout and its connection is replaced. */
  requestTimeoutMs?: number;
}

export interface LoadErrors {
  connect: number;
  /** Connection reset or closed before the response was complete. */
  reset: number;
  /** Malformed response framing, or `Connection: keep-alive` in answer to `Connection: close`. */
  protocol: number;
  timeout: number;
  /** 2xx with a body of the wrong size. */
  size: number;
}

export interface LoadResult {
  scenario: string;
  connections: number;
  durationS: number;
  /** Complete, valid 2xx responses in the measured window. */
  requests: number;
  rps: number;
  non2xx: number;
  errors: LoadErrors;
  errorTotal: number;
  errorSamples: string[];
  /** Connections opened in the measured window (keep-alive scenarios: ideally 0). */
  connectionsOpened: number;
  /** Errors of any kind during warmup (not in `errors`). */
  warmupErrors: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
}

/** Shared state for all connections of one run. */
class Run {
  measuring = false;
  stopped = false;
  requests = 0;
  non2xx = 0;
  opened = 0;
  warmupErrors = 0;
  readonly errors: LoadErrors = { connect: 0, reset: 0, protocol: 0, timeout: 0, size: 0 };
  readonly samples = new Set<string>();
  readonly hist = new LatencyHistogram();
  readonly request: Buffer;
  readonly host: string;
  readonly port: number;

  constructor(readonly opts: LoadOptions) {
    const u = new URL(opts.url);
    if (u.protocol !== 'http:') throw new Error(`only http:// targets are supported: ${opts.url}`);
    this.host = u.hostname;
    this.port = Number(u.port || 80);
    this.request = buildRequest(opts.scenario, u.host);
  }

  error(kind: keyof LoadErrors, msg: string): void {
    if (this.stopped) return;
    if (!this.measuring) {
      this.warmupErrors += 1;
      return;
    }
    this.errors[kind] += 1;
    if (this.samples.size < 5) this.samples.add(`${kind}: ${msg}`);
  }
}

class Conn {
  private socket: net.Socket | null = null;
  private readonly parser = new ResponseParser();
  private readonly readBuf = Buffer.allocUnsafe(64 * 1024);
  private start = 0n;
  /** hrtime of the request in flight, 0n when idle (checked by the timeout sweep). */
  inflightSince = 0n;
  /** hrtime since which we wait for the server to close after `Connection: close`, else 0n. */
  closingSince = 0n;

  constructor(private readonly run: Run) {}

  open(): void {
    const run = this.run;
    if (run.stopped) return;
    const sock: net.Socket = net.connect({
      host: run.host, port: run.port, noDelay: true,
      // Read into one reused buffer: no Buffer allocated per read. The parser copies what it keeps.
      onread: { buffer: this.readBuf, callback: (n: number): boolean => this.onData(sock, n) },
    });
    this.socket = sock;
    if (run.measuring) run.opened += 1;
    // With Connection: close the connection setup is part of what is measured.
    this.start = this.inflightSince = process.hrtime.bigint();
    let connected = false;
    let lastError = 'connection closed before the response was complete';
    sock.on('connect', () => {
      connected = true;
      this.send();
    });
    // Counted once, in 'close' (which always follows 'error'), so a failure is not counted twice.
    sock.on('error', (err) => (lastError = err.message));
    sock.on('close', () => this.onClose(sock, connected, lastError));
  }

  private send(): void {
    this.parser.reset();
    if (!this.run.opts.scenario.close) this.start = process.hrtime.bigint();
    this.inflightSince = this.start;
    this.socket!.write(this.run.request);
  }

  private onData(sock: net.Socket, n: number): boolean {
    if (sock !== this.socket) return true;
    try {
      if (this.parser.feed(this.readBuf.subarray(0, n))) this.complete();
    } catch (err) {
      this.run.error(err instanceof ProtocolError ? 'protocol' : 'reset', (err as Error).message);
      this.replace();
    }
    return true;
  }

  private onClose(sock: net.Socket, connected: boolean, why: string): void {
    if (sock !== this.socket) return; // a socket we already gave up on
    if (!connected) this.run.error('connect', why);
    else if (this.inflightSince !== 0n) {
      if (this.parser.end()) return this.complete(true);
      this.run.error('reset', why);
    }
    this.socket = null;
    this.inflightSince = this.closingSince = 0n;
    // Back off a little after a failed connect so a dead target does not spin the CPU.
    if (connected) this.open();
    else setTimeout(() => this.open(), 10).unref();
  }

  private complete(closed = false): void {
    const run = this.run;
    const p = this.parser;
    const us = Number(process.hrtime.bigint() - this.start) / 1000;
    this.inflightSince = 0n;
    const closeMode = run.opts.scenario.close;
    if (run.measuring) {
      if (p.status < 200 || p.status > 299) run.non2xx += 1;
      else if (p.bodyBytes !== run.opts.scenario.expectBytes) {
        run.error('size', `status ${p.status} with ${p.bodyBytes} body bytes`);
      } else if (closeMode && p.keepAlive) {
        run.error('protocol', 'Connection: keep-alive in answer to Connection: close');
      } else {
        run.requests += 1;
        run.hist.record(us);
      }
    }
    if (closed) this.replace();
    // Let the server close first, as HTTP says it must: TIME_WAIT then lands on its side, not on
    // ours, so a close-per-request run does not exhaust our ephemeral ports and slow connect().
    else if (closeMode || p.close) this.closingSince = process.hrtime.bigint();
    else this.send();
  }

  /** Drop this connection and open a fresh one. */
  replace(): void {
    const sock = this.socket;
    this.socket = null;
    this.inflightSince = this.closingSince = 0n;
    sock?.destroy();
    this.open();
  }

  stop(): void {
    const sock = this.socket;
    this.socket = null;
    sock?.destroy();
  }
}

const CLOSE_WAIT_NS = 1_000_000_000n;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Run one scenario against one target; resolves after warmup + duration (plus socket teardown). */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const run = new Run(opts);
  const conns = Array.from({ length: opts.connections }, () => new Conn(run));
  const timeoutNs = BigInt(opts.requestTimeoutMs ?? 10_000) * 1_000_000n;
  // One sweep timer instead of a timer per request: cheap at tens of thousands of requests/s.
  const sweep = setInterval(() => {
    const now = process.hrtime.bigint();
    for (const c of conns) {
      if (c.inflightSince !== 0n && now - c.inflightSince > timeoutNs) {
        run.error('timeout', `no complete response in ${opts.requestTimeoutMs ?? 10_000} ms`);
        c.replace();
      } else if (c.closingSince !== 0n && now - c.closingSince > CLOSE_WAIT_NS) {
        run.error('protocol', 'connection still open 1 s after a Connection: close exchange');
        c.replace();
      }
    }
  }, 100);
  try {
    for (const c of conns) c.open();
    await sleep(opts.warmupMs);
    run.measuring = true;
    const t0 = process.hrtime.bigint();
    await sleep(opts.durationMs);
    run.measuring = false;
    const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
    return summarize(run, elapsedS);
  } finally {
    run.stopped = true;
    clearInterval(sweep);
    for (const c of conns) c.stop();
  }
}

function summarize(run: Run, durationS: number): LoadResult {
  const h = run.hist;
  const ms = (us: number) => Math.round(us) / 1000;
  const errorTotal = Object.values(run.errors).reduce((a, b) => a + b, 0);
  return {
    scenario: run.opts.scenario.name,
    connections: run.opts.connections,
    durationS,
    requests: run.requests,
    rps: run.requests / durationS,
    non2xx: run.non2xx,
    errors: { ...run.errors },
    errorTotal,
    errorSamples: [...run.samples],
    connectionsOpened: run.opened,
    warmupErrors: run.warmupErrors,
    latencyMs: {
      mean: ms(h.mean()), p50: ms(h.percentile(50)), p90: ms(h.percentile(90)),
      p99: ms(h.percentile(99)), max: ms(h.max),
    },
  };
}
