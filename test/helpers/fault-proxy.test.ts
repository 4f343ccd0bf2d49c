import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';

/** A real TCP echo server; `big` connections instead get `size` bytes written and closed. */
async function startEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.once('data', (first: Buffer) => {
      const text = first.toString('latin1');
      const m = /^SEND (\d+)\n$/.exec(text);
      if (m !== null) return void s.end(Buffer.alloc(Number(m[1]), 0x61));
      s.write(first);
      s.pipe(s);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Send `data`, collect the reply until `bytes` arrived, the socket closed, or `waitMs` passed. */
function exchange(port: number, data: string | Buffer, bytes: number, waitMs = 3000): Promise<{ got: Buffer; error: string | undefined; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let error: string | undefined;
    const s = net.connect(port, '127.0.0.1');
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ got: Buffer.concat(chunks), error, closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      length += c.length;
      if (length >= bytes) finish(false);
    });
    s.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    s.on('close', () => finish(true));
    s.write(data);
  });
}

describe('fault proxy', () => {
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let proxy: FaultProxy;
  before(async () => {
    echo = await startEcho();
    proxy = await startFaultProxy({ host: '127.0.0.1', port: echo.port });
  });
  after(async () => {
    await proxy.close();
    await echo.close();
  });

  it('forwards both ways untouched and counts connections and bytes', async () => {
    const before = { ...proxy.stats };
    const r = await exchange(proxy.port, 'hello proxy', 11);
    assert.equal(r.got.toString(), 'hello proxy');
    assert.equal(proxy.stats.connections - before.connections, 1);
    assert.equal(proxy.stats.bytesUp - before.bytesUp, 11);
    assert.equal(proxy.stats.bytesDown - before.bytesDown, 11);
    const big = await exchange(proxy.port, 'SEND 200000\n', 200_000);
    assert.equal(big.got.length, 200_000);
  });

  it('adds latency per chunk (responses by default) and at connect', async () => {
    proxy.latency(150);
    let t0 = performance.now();
    const r = await exchange(proxy.port, 'slow', 4);
    assert.equal(r.got.toString(), 'slow');
    assert.ok(performance.now() - t0 >= 140, 'the reply was held');
    proxy.latency(150, { on: 'connect' });
    t0 = performance.now();
    assert.equal((await exchange(proxy.port, 'late', 4)).got.toString(), 'late');
    assert.ok(performance.now() - t0 >= 140, 'the upstream connection was opened late');
    await proxy.heal();
  });

  it('limits bandwidth with backpressure, holding at most one chunk', async () => {
    proxy.bandwidth(100_000, 'down');
    const start = proxy.stats.bytesDown;
    const t0 = performance.now();
    const pending = exchange(proxy.port, 'SEND 300000\n', 300_000, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const sent = proxy.stats.bytesDown - start;
    const elapsed = (performance.now() - t0) / 1000;
    // At most the rate times the elapsed time, plus one slice written before its pause.
    assert.ok(sent <= 100_000 * elapsed + 5_000, `forwarded ${sent} bytes in ${elapsed}s`);
    assert.ok(sent > 0, 'data flows while throttled');
    await proxy.heal();
    const r = await pending;
    assert.equal(r.got.length, 300_000, 'the rest arrives once healed');
    // One read chunk (≤ 64 KiB) is the most ever held: the upstream socket was paused, not drained into memory.
    assert.ok(proxy.stats.peakHeld <= 65_536, `peak held ${proxy.stats.peakHeld}`);
  });

  it('resets a stream after N bytes with an RST', async () => {
    proxy.resetAfter(10_000);
    const resetsBefore = proxy.stats.resets;
    const r = await exchange(proxy.port, 'SEND 100000\n', 100_000);
    assert.ok(r.got.length > 0 && r.got.length <= 10_000, `got ${r.got.length} bytes (mid-stream)`);
    assert.equal(r.closed, true);
    assert.equal(r.error, 'ECONNRESET');
    assert.equal(proxy.stats.resets - resetsBefore, 1);
    await proxy.heal();
    assert.equal((await exchange(proxy.port, 'SEND 100000\n', 100_000)).got.length, 100_000);
  });

  it('blackholes: accepts, never answers; heal() restores new connections', async () => {
    proxy.blackhole();
    const r = await exchange(proxy.port, 'anyone?', 7, 400);
    assert.equal(r.got.length, 0);
    assert.equal(r.closed, false, 'the connection stays open, silent');
    assert.ok(proxy.stats.bytesDropped >= 7);
    await proxy.heal();
    assert.equal((await exchange(proxy.port, 'back', 4)).got.toString(), 'back');
  });

  it('refuses with an RST, or by closing the listener (ECONNREFUSED), and heals on the same port', async () => {
    await proxy.refuse('reset');
    const refusedBefore = proxy.stats.refused;
    const r = await exchange(proxy.port, 'x', 1, 1000);
    assert.equal(r.got.length, 0);
    assert.equal(r.error, 'ECONNRESET');
    assert.equal(proxy.stats.refused - refusedBefore, 1);
    await proxy.refuse('close');
    await assert.rejects(connect(proxy.port), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
    await proxy.heal();
    assert.equal((await exchange(proxy.port, 'again', 5)).got.toString(), 'again');
  });

  it('resetConnections() cuts open connections (a dying target)', async () => {
    const socket = await connect(proxy.port);
    const closed = new Promise<string | undefined>((resolve) => {
      let code: string | undefined;
      socket.on('error', (e: NodeJS.ErrnoException) => (code = e.code));
      socket.on('close', () => resolve(code));
    });
    // Wait until the proxy has the connection paired with the upstream.
    socket.write('ping');
    await new Promise((r) => socket.once('data', r));
    assert.equal(proxy.stats.active, 1);
    proxy.resetConnections();
    assert.equal(await closed, 'ECONNRESET');
  });
});
