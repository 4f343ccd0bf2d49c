/**
 * The gateway under test as a child process, started from a command string with the same
 * interface as ../shared/bench/run.sh's candidate: LISTEN_PORT, UPSTREAM_URL, WORKERS. Output goes
 * to a log file, not a pipe, so a chatty access log costs the bench process (on the load core)
 * nothing to drain. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { childPids, pinPrefix } from './cpu.ts';
import { LARGE_BODY_BYTES, POST_BODY_BYTES, SMALL_BODY_BYTES } from './scenarios.ts';

export interface GatewayOptions {
  name: string;
  /** Shell command, run as `sh -c "exec <command>"` so the PID we hold is the gateway's. */
  command: string;
  upstreamUrl: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Core to pin to with taskset, or null. */
  core: number | null;
  readyTimeoutMs: number;
  logFile: string;
}

export interface GatewayProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5000;

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function startGateway(o: GatewayOptions): Promise<GatewayProcess> {
  const port = o.port || (await freePort());
  const env = {
    ...process.env,
    LISTEN_PORT: String(port),
    UPSTREAM_URL: o.upstreamUrl,
    WORKERS: '1',
    // As run.sh does, so plain .js peers (e.g. ../shared/bench/proxies) resolve their packages.
    NODE_PATH: process.env.NODE_PATH ?? path.resolve('node_modules'),
  };
  const fd = openSync(o.logFile, 'w');
  const argv = [...pinPrefix(o.core), 'sh', '-c', `exec ${o.command}`];
  let child: ChildProcess;
  try {
    child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd); // the child holds its own copy
  }
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  try {
    await waitReady(child, url, o.readyTimeoutMs);
    await sanityCheck(url);
  } catch (err) {
    await stop();
    const tail = readFileSync(o.logFile, 'utf8').split('\n').slice(-20).join('\n').slice(-2000);
    throw new Error(`${o.name}: ${(err as Error).message}\n--- last lines of ${o.logFile} ---\n${tail}`);
  }
  return { url, pid: child.pid!, stop };
}

async function waitReady(child: ChildProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let spawnError: Error | null = null;
  child.once('error', (e) => (spawnError = e));
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (spawnError) throw spawnError;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`exited before it was ready (${child.signalCode ?? child.exitCode})`);
    }
    try {
      const r = await probe(url, 'GET', '/small', 0, 1000);
      if (r.status === 200) return;
      last = `GET /small answered ${r.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready within ${timeoutMs} ms (${last})`);
}

/** The endpoints every scenario relies on, with the body sizes the load generator will demand. */
export async function sanityCheck(url: string): Promise<void> {
  const checks: Array<[string, string, number, number]> = [
    ['GET', '/small', 0, SMALL_BODY_BYTES],
    ['GET', '/16k', 0, LARGE_BODY_BYTES],
    ['POST', '/post', POST_BODY_BYTES, SMALL_BODY_BYTES],
  ];
  for (const [method, p, body, want] of checks) {
    const r = await probe(url, method, p, body, 5000);
    if (r.status !== 200 || r.bytes !== want) {
      throw new Error(`sanity: ${method} ${p} -> ${r.status} with ${r.bytes} bytes (want 200 with ${want})`);
    }
  }
}

export function probe(
  base: string, method: string, p: string, bodyBytes: number, timeoutMs: number,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const headers = bodyBytes > 0 ? { 'content-length': String(bodyBytes) } : {};
    const req = http.request(`${base}${p}`, { method, agent: false, headers, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(bodyBytes > 0 ? Buffer.alloc(bodyBytes, 0x61) : undefined);
  });
}

/** SIGTERM, then SIGKILL after 5 s; its direct children (cluster workers) too. By PID only. */
async function stopChild(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const kids = childPids(pid);
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
  for (const k of kids) {
    try {
      process.kill(k, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
