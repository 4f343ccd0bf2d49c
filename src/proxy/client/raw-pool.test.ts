/**
 * Behaviour specific to the raw-socket pool (stale-socket retry, strict framing on the wire,
 * reuse rules) that undici handles differently or not at all.
 */
import assert from 'node:assert/strict';
import type net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { Fixture, delay, get, header, send } from './harness.test.ts';
import { createRawPool } from './raw-pool.ts';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

describe('raw pool', () => {
  const fx = new Fixture(createRawPool);
  afterEach(() => fx.cleanup());

  it('reuses the connection even for a call made from inside onEnd', async () => {
    const port = await fx.canned(OK);
    const pool = fx.pool(port);
    let left = 5;
    await new Promise<void>((resolve, reject) => {
      const next = (): void => {
        pool.request(get(), {
          onHeaders() {},
          onData: () => true,
          onEnd: () => (--left === 0 ? resolve() : next()),
          onError: reject,
        });
      };
      next();
    });
    assert.equal(pool.stats().connectsTotal, 1);
  });

  it('retries once on a fresh connection when a reused socket dies before responding', async () => {
    const port = await fx.raw((socket, _head, index) => {
      if (index === 1) socket.destroy(); // the upstream closed its idle keep-alive socket
      else socket.write(OK);
    });
    const pool = fx.pool(port);
    assert.equal((await send(pool, get())).status, 200);
    const r = await send(pool, get());
    assert.equal(r.error, undefined);
    assert.equal(r.body.toString(), 'ok');
    assert.equal(pool.stats().connectsTotal, 2);
    assert.equal(pool.stats().retriesTotal, 1);
  });

  it('retries a call whose streaming body was not read yet', async () => {
    const bodies: string[] = [];
    const port = await fx.http((req, res) => {
      let s = '';
      req.on('data', (d) => (s += d));
      req.on('end', () => {
        bodies.push(s);
        res.end(s);
        if (bodies.length === 1) setImmediate(() => req.socket.destroy()); // close while idle
      });
    });
    const pool = fx.pool(port);
    await send(pool, get('/', { method: 'POST', body: streamOf('first'), contentLength: null }));
    const body = new PassThrough();
    const pending = send(pool, get('/', { method: 'POST', body, contentLength: null }));
    await delay(30);
    body.end('second');
    const r = await pending;
    assert.equal(r.body.toString(), 'second');
    assert.deepEqual(bodies, ['first', 'second']);
  });

  it('does not retry when the body was already sent: reports a reset', async () => {
    let heads = 0;
    const port = await fx.raw((socket, _head, index) => {
      heads++;
      if (index === 1) setTimeout(() => socket.destroy(), 20);
      else socket.write(OK);
    });
    const pool = fx.pool(port);
    await send(pool, get());
    const r = await send(pool, get('/', { method: 'POST', body: streamOf('payload'), contentLength: 7 }));
    assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_RESET');
    assert.deepEqual(r.info, { requestSent: true, responseStarted: false });
    assert.equal(heads, 2);
  });

  it('never retries a fresh connection', async () => {
    const port = await fx.raw((socket) => socket.destroy());
    const pool = fx.pool(port);
    const r = await send(pool, get());
    assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_RESET');
    assert.equal(pool.stats().connectsTotal, 1);
  });

  it('drops idle sockets the upstream closes, and after keepAliveMs', async () => {
    let closeFirst = true;
    const port = await fx.raw((socket) => {
      socket.write(OK);
      if (closeFirst) socket.end();
    });
    const pool = fx.pool(port, { keepAliveMs: 80 });
    await send(pool, get());
    await delay(30);
    assert.equal(pool.stats().open, 0, 'closed by upstream');
    closeFirst = false;
    assert.equal((await send(pool, get())).status, 200);
    assert.equal(pool.stats().idle, 1);
    await delay(200);
    assert.equal(pool.stats().open, 0, 'closed after keepAliveMs');
  });

  it("honours the upstream's Keep-Alive: timeout, a second early", async () => {
    const port = await fx.raw((socket, head) => {
      const t = head.includes('/short') ? 1 : 2;
      socket.write(`HTTP/1.1 200 OK\r\nKeep-Alive: timeout=${t}, max=100\r\nContent-Length: 2\r\n\r\nok`);
    });
    const pool = fx.pool(port, { keepAliveMs: 60_000 });
    await send(pool, get('/short'));
    assert.equal(pool.stats().open, 0, 'timeout=1 leaves no time to park');
    await send(pool, get('/long'));
    assert.equal(pool.stats().idle, 1);
    await delay(1300);
    assert.equal(pool.stats().open, 0, 'closed after 2 s - 1 s');
  });

  for (const [what, bytes] of [
    ['Connection: close', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'],
    ['an HTTP/1.0 response', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok'],
    ['stray bytes after the response', `${OK}HTTP/1.1 200 OK\r\n`],
  ] as const) {
    it(`does not reuse a connection after ${what}`, async () => {
      const port = await fx.canned(bytes);
      const pool = fx.pool(port);
      assert.equal((await send(pool, get())).body.toString(), 'ok');
      await send(pool, get());
      assert.equal(pool.stats().connectsTotal, 2);
    });
  }

  it('closes an idle socket that receives unsolicited bytes', async () => {
    let client: net.Socket | undefined;
    const port = await fx.raw((socket) => {
      client = socket;
      socket.write(OK);
    });
    const pool = fx.pool(port);
    await send(pool, get());
    client!.write('HTTP/1.1 200 OK\r\n\r\n');
    await delay(30);
    assert.equal(pool.stats().open, 0);
  });

  it('keeps the connection after HEAD and 304 responses that carry Content-Length', async () => {
    const port = await fx.raw((socket, head) => {
      socket.write(head.startsWith('HEAD')
        ? 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n'
        : 'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n');
    });
    const pool = fx.pool(port);
    assert.equal((await send(pool, get('/', { method: 'HEAD' }))).error, undefined);
    assert.equal((await send(pool, get('/'))).status, 304);
    assert.equal(pool.stats().connectsTotal, 1);
  });

  for (const [what, bytes] of [
    ['bare LF line endings', 'HTTP/1.1 200 OK\nContent-Length: 0\n\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: a\r\n  b\r\nContent-Length: 0\r\n\r\n'],
    ['a control character in a value', 'HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n'],
    ['Transfer-Encoding: gzip, chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
    ['missing CRLF after chunk data', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n'],
    ['101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'],
  ] as const) {
    it(`rejects ${what} and destroys the socket`, async () => {
      let closed = false;
      const port = await fx.raw((socket) => {
        socket.on('close', () => (closed = true));
        socket.write(bytes);
      });
      const r = await send(fx.pool(port), get());
      assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_BAD_RESPONSE');
      for (let i = 0; i < 50 && !closed; i++) await delay(5);
      assert.ok(closed);
    });
  }

  it('completes an early response while the request body is still streaming, then closes', async () => {
    const port = await fx.raw((socket) => {
      socket.end('HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\nnope');
    });
    const body = new PassThrough();
    body.write('x'.repeat(1000));
    const pool = fx.pool(port);
    const r = await send(pool, get('/', { method: 'POST', body, contentLength: 100_000 }));
    assert.equal(r.status, 413);
    assert.equal(r.body.toString(), 'nope');
    assert.equal(r.error, undefined);
    await delay(10);
    assert.equal(pool.stats().open, 0);
  });

  it('fails a body that does not match its Content-Length', async () => {
    const port = await fx.http((req, res) => {
      req.on('error', () => {});
      req.resume().on('end', () => res.end());
    });
    const pool = fx.pool(port);
    const short = await send(pool, get('/', { method: 'PUT', body: streamOf('abc'), contentLength: 10 }));
    assert.equal(short.error?.code, 'SLUICE_ERR_INTERNAL');
    const long = await send(pool, get('/', { method: 'PUT', body: streamOf('abcdef'), contentLength: 2 }));
    assert.equal(long.error?.code, 'SLUICE_ERR_INTERNAL');
  });

  it('aborts a queued call without callbacks, and never calls back from inside request()', async () => {
    const port = await fx.http((_req, res) => setTimeout(() => res.end('x'), 50));
    const pool = fx.pool(port, { connections: 1 });
    const first = send(pool, get());
    await delay(20); // first call connected and in flight
    let called = false;
    const handle = pool.request(get(), {
      onHeaders: () => void (called = true), onData: () => true,
      onEnd: () => void (called = true), onError: () => void (called = true),
    });
    assert.equal(pool.stats().queued, 1);
    handle.abort();
    assert.equal(pool.stats().queued, 0);
    assert.equal((await first).status, 200);
    await pool.close();
    let sync = true;
    let errorCode = '';
    pool.request(get(), {
      onHeaders() {}, onData: () => true, onEnd() {},
      onError: (e) => void (errorCode = sync ? 'sync!' : e.code),
    });
    sync = false;
    await delay(5);
    assert.equal(errorCode, 'SLUICE_ERR_UPSTREAM_CONNECT');
    assert.equal(called, false);
  });

  it('fails every queued call when the target refuses connections', async () => {
    const port = await fx.http(() => {});
    await fx.cleanup();
    const pool = fx.pool(port, { connections: 2 });
    const rs = await Promise.all([1, 2, 3, 4, 5].map(() => send(pool, get())));
    assert.deepEqual(rs.map((r) => r.error?.code), Array(5).fill('SLUICE_ERR_UPSTREAM_CONNECT'));
    assert.deepEqual(pool.stats(), { open: 0, idle: 0, inflight: 0, queued: 0, connectsTotal: 5, retriesTotal: 0 });
  });

  it('parses a response delivered one byte at a time', async () => {
    const bytes = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '4\r\nwiki\r\n5;a=b\r\npedia\r\n0\r\nX-T: 1\r\n\r\n';
    const port = await fx.raw(async (socket) => {
      socket.setNoDelay(true);
      for (const c of bytes) {
        socket.write(c);
        await delay(0);
      }
    });
    const r = await send(fx.pool(port), get());
    assert.equal(r.body.toString(), 'wikipedia');
    assert.deepEqual(r.trailers, ['X-T', '1']);
    assert.equal(r.informational[0]?.status, 100);
    assert.equal(header(r.headers, 'transfer-encoding'), 'chunked');
  });
});

function streamOf(text: string): PassThrough {
  const s = new PassThrough();
  s.end(text);
  return s;
}
