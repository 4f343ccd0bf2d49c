/**
 * Memory check (DESIGN §8): stream 200 MiB down and 200 MiB up through the gateway and report how
 * much its RSS grows. Exit 1 when growth exceeds the budget (64 MiB). Loopback only, bounded.
 *
 *   npm run build && npm run bench:memory            # MIB=200 BUDGET_MIB=64 CMD='node dist/cli.js proxy'
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { startGateway } from '../src/bench/gateway-process.ts';

const MIB = Number(process.env.MIB ?? 200);
const BUDGET_MIB = Number(process.env.BUDGET_MIB ?? 64);
const COMMAND = process.env.CMD ?? 'node dist/cli.js proxy --no-access-log --max-body-size 1gb';
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const TOTAL = MIB * 1024 * 1024;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** Write TOTAL bytes with backpressure, then end. */
function pumpTotal(out: http.ServerResponse | http.ClientRequest): void {
  let sent = 0;
  const pump = (): void => {
    while (sent < TOTAL) {
      sent += CHUNK.length;
      if (!out.write(CHUNK)) return void out.once('drain', pump);
    }
    out.end();
  };
  pump();
}

function upstreamHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '/';
  if (url === '/stream') {
    res.writeHead(200, { 'content-length': String(TOTAL) });
    return pumpTotal(res);
  }
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    const size = url === '/16k' ? 16384 : 100;
    res.writeHead(200, { 'content-length': String(size), 'x-received': String(bytes) });
    res.end(Buffer.alloc(size, 0x62));
  });
}

function download(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(`${url}/stream`, { agent: false }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function upload(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/sink`, { method: 'PUT', agent: false, headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-received'])));
    });
    req.on('error', reject);
    pumpTotal(req);
  });
}

async function main(): Promise<number> {
  const upstream = http.createServer(upstreamHandler);
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const gateway = await startGateway({ name: 'sluice', command: COMMAND, upstreamUrl, port: 0, core: null, readyTimeoutMs: 20_000, logFile: '/dev/null' });
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(gateway.pid))), 50);
  const deadline = setTimeout(() => {
    console.error('memory check did not finish in 120 s');
    process.exit(1);
  }, 120_000);
  try {
    const baseline = rssMiB(gateway.pid);
    peak = baseline;
    const started = performance.now();
    const [down, up] = await Promise.all([download(gateway.url), upload(gateway.url)]);
    const seconds = (performance.now() - started) / 1000;
    const growth = peak - baseline;
    console.log(`| streamed | down ${(down / 1048576).toFixed(0)} MiB, up ${(Number(up) / 1048576).toFixed(0)} MiB in ${seconds.toFixed(1)} s |`);
    console.log(`| RSS baseline | ${baseline.toFixed(1)} MiB |\n| RSS peak | ${peak.toFixed(1)} MiB |\n| growth | ${growth.toFixed(1)} MiB (budget ${BUDGET_MIB} MiB) |`);
    if (down !== TOTAL || Number(up) !== TOTAL) throw new Error(`byte count mismatch: down ${down}, up ${up}, expected ${TOTAL}`);
    return growth <= BUDGET_MIB ? 0 : 1;
  } finally {
    clearInterval(timer);
    clearTimeout(deadline);
    await gateway.stop();
    upstream.closeAllConnections();
    upstream.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
