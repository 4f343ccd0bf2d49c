import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { GatewayError } from '../../errors/index.ts';
import { flatHeaders, h2RequestHeaders } from './h2-call.ts';
import { createH2Pool } from './h2-pool.ts';
import type { FailureInfo, TargetPool, UpstreamCall } from './types.ts';

function call(path: string, extra: Partial<UpstreamCall> = {}): UpstreamCall {
  return { method: 'GET', path, headers: ['host', 'up.example'], body: null, contentLength: null, responseTimeoutMs: 5000, bodyIdleTimeoutMs: 5000, ...extra };
}

interface Outcome {
  status: number;
  headers: string[];
  body: Buffer;
  trailers: string[];
  error?: GatewayError;
  info?: FailureInfo;
}

function send(pool: TargetPool, c: UpstreamCall, onChunk?: (n: number) => boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { status: 0, headers: [], body: Buffer.alloc(0), trailers: [] };
    const parts: Buffer[] = [];
    pool.request(c, {
      onHeaders(status, _text, headers) {
        out.status = status;
        out.headers = headers;
      },
      onData(chunk) {
        parts.push(chunk);
        return onChunk === undefined ? true : onChunk(parts.length);
      },
      onEnd(trailers) {
        out.body = Buffer.concat(parts);
        out.trailers = trailers;
        resolve(out);
      },
      onError(error, info) {
        out.error = error;
        out.info = info;
        resolve(out);
      },
    });
  });
}

describe('h2RequestHeaders', () => {
  it('builds pseudo-headers from the call, Host as :authority, drops connection-specific headers', () => {
    const h = h2RequestHeaders(
      call('/a?b=1', {
        method: 'POST',
        headers: ['Host', 'api.example', 'Connection', 'keep-alive', 'Keep-Alive', '5', 'Upgrade', 'x', 'TE', 'trailers', 'cookie', 'a=1', 'cookie', 'b=2', 'x-m', '1', 'x-m', '2'],
        body: Readable.from([]),
        contentLength: 3,
      }),
      'http',
      'up:80',
    );
    assert.deepEqual(h, {
      ':method': 'POST',
      ':path': '/a?b=1',
      ':scheme': 'http',
      ':authority': 'api.example',
      te: 'trailers',
      cookie: 'a=1; b=2',
      'x-m': ['1', '2'],
      'content-length': '3',
    });
  });
  it('drops te other than trailers and rejects invalid header names', () => {
    assert.equal(h2RequestHeaders(call('/', { headers: ['te', 'gzip'] }), 'https', 'up')['te'], undefined);
    assert.equal(h2RequestHeaders(call('/', { headers: [] }), 'https', 'up:8443')[':authority'], 'up:8443');
    assert.throws(() => h2RequestHeaders(call('/', { headers: ['bad name', 'x'] }), 'http', 'up'), /invalid header name/);
  });
  it('flattens response headers without pseudo-headers', () => {
    assert.deepEqual(flatHeaders({ ':status': 200, 'set-cookie': ['a', 'b'], 'x-a': '1' } as unknown as http2.IncomingHttpHeaders), ['set-cookie', 'a', 'set-cookie', 'b', 'x-a', '1']);
  });
});

describe('HTTP/2 pool', () => {
  let server: http2.Http2Server;
  let origin: URL;
  let sessions = 0;
  let cancelled = 0;
  const pools: TargetPool[] = [];
  const pool = (over: Partial<{ keepAliveMs: number; connections: number }> = {}) => {
    const p = createH2Pool({ origin, connections: over.connections ?? 4, keepAliveMs: over.keepAliveMs ?? 5000, connectTimeoutMs: 2000 });
    pools.push(p);
    return p;
  };

  before(async () => {
    server = http2.createServer({ settings: { maxConcurrentStreams: 2 } });
    server.on('session', (s) => {
      sessions++;
      s.on('error', () => {});
    });
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      stream.on('close', () => {
        if (stream.rstCode === http2.constants.NGHTTP2_CANCEL) cancelled++;
      });
      const path = headers[':path']!;
      if (path === '/echo') {
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('end', () => {
          stream.respond({ ':status': 200, 'x-auth': String(headers[':authority']) }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'x-len': String(Buffer.concat(parts).length) }));
          stream.end(Buffer.concat(parts));
        });
      } else if (path === '/hang') {
        // never answers
      } else if (path === '/stall') {
        stream.respond({ ':status': 200 });
        stream.write('first');
      } else if (path === '/refuse') {
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      } else if (path === '/many') {
        stream.respond({ ':status': 200 });
        for (let i = 0; i < 64; i++) stream.write(Buffer.alloc(16 * 1024, i));
        stream.end();
      } else {
        stream.respond({ ':status': 204 });
        stream.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(async () => {
    for (const p of pools) p.destroy();
    await new Promise((r) => server.close(r));
  });

  it('sends a body and gets status, headers, body and trailers', async () => {
    const r = await send(pool(), call('/echo', { method: 'POST', body: Readable.from([Buffer.from('hello '), Buffer.from('h2')]), contentLength: 8 }));
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers.slice(0, 2), ['x-auth', 'up.example']);
    assert.equal(r.body.toString(), 'hello h2');
    assert.deepEqual(r.trailers, ['x-len', '8']);
  });

  it('multiplexes on one session and opens another only beyond the peer stream limit', async () => {
    const p = pool();
    const before = sessions;
    await Promise.all([send(p, call('/')), send(p, call('/'))]);
    assert.equal(sessions - before, 1);
    // 2 streams per session allowed by the server: 4 at once need 2 sessions.
    await send(p, call('/')); // settings known now
    await Promise.all([1, 2, 3, 4].map(() => send(p, call('/'))));
    assert.equal(p.stats().open, 2);
    assert.equal(p.stats().connectsTotal, 2);
  });

  it('queues beyond connections × streams and serves the queue in order', async () => {
    const p = pool({ connections: 1 });
    await send(p, call('/'));
    const all = await Promise.all([1, 2, 3, 4, 5].map(() => send(p, call('/'))));
    assert.ok(all.every((r) => r.status === 204));
    assert.equal(p.stats().connectsTotal, 1);
  });

  it('connect refused: SLUICE_ERR_UPSTREAM_CONNECT, nothing sent', async () => {
    const p = createH2Pool({ origin: new URL('http://127.0.0.1:1'), connections: 1, keepAliveMs: 1000, connectTimeoutMs: 1000 });
    pools.push(p);
    const r = await send(p, call('/'));
    assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_CONNECT');
    assert.deepEqual(r.info, { requestSent: false, responseStarted: false });
  });

  it('connect timeout: a TLS peer that never completes the handshake → SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT, nothing sent', async () => {
    const mute = net.createServer((sock) => sock.on('data', () => {}));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    try {
      const p = createH2Pool({ origin: new URL(`https://127.0.0.1:${(mute.address() as AddressInfo).port}`), connections: 1, keepAliveMs: 1000, connectTimeoutMs: 100 });
      pools.push(p);
      const r = await send(p, call('/'));
      assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT');
      assert.deepEqual(r.info, { requestSent: false, responseStarted: false });
    } finally {
      mute.close();
    }
  });

  it('REFUSED_STREAM: upstream reset with requestSent false (safe to retry)', async () => {
    const r = await send(pool(), call('/refuse'));
    assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_RESET');
    assert.equal(r.info?.requestSent, false);
  });

  it('response and body-idle timeouts', async () => {
    const p = pool();
    const head = await send(p, call('/hang', { responseTimeoutMs: 100 }));
    assert.equal(head.error?.code, 'SLUICE_ERR_UPSTREAM_TIMEOUT');
    assert.equal(head.info?.responseStarted, false);
    const body = await send(p, call('/stall', { bodyIdleTimeoutMs: 100 }));
    assert.equal(body.error?.code, 'SLUICE_ERR_UPSTREAM_TIMEOUT');
    assert.equal(body.info?.responseStarted, true);
  });

  it('abort sends RST_STREAM(CANCEL) and keeps the session', async () => {
    const p = pool();
    const before = cancelled;
    const handle = p.request(call('/hang'), { onHeaders() {}, onData: () => true, onEnd() {}, onError() {} });
    await new Promise((r) => setTimeout(r, 50));
    handle.abort();
    for (let i = 0; i < 50 && cancelled === before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(cancelled, before + 1);
    assert.equal((await send(p, call('/'))).status, 204);
    assert.equal(p.stats().connectsTotal, 1);
  });

  it('onData returning false pauses until resume()', async () => {
    const p = pool();
    let handle: ReturnType<TargetPool['request']> | undefined;
    let chunks = 0;
    let paused = false;
    const done = new Promise<number>((resolve) => {
      handle = p.request(call('/many'), {
        onHeaders() {},
        onData: (c) => {
          chunks++;
          if (chunks === 1) {
            paused = true;
            setTimeout(() => {
              paused = false;
              handle!.resume();
            }, 100);
            return false;
          }
          assert.equal(paused, false, 'no data while paused');
          return true;
        },
        onEnd: () => resolve(chunks),
        onError: (e) => assert.fail(e),
      });
    });
    assert.ok((await done) > 1);
  });

  it('closes an idle session after keepAlive and opens a new one on demand', async () => {
    const p = pool({ keepAliveMs: 50 });
    await send(p, call('/'));
    assert.equal(p.stats().open, 1);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(p.stats().open, 0);
    assert.equal((await send(p, call('/'))).status, 204);
    assert.equal(p.stats().connectsTotal, 2);
  });

  it('close() waits for in-flight streams; later calls fail without sending', async () => {
    const p = pool();
    const inflight = send(p, call('/stall', { bodyIdleTimeoutMs: 200 }));
    await new Promise((r) => setTimeout(r, 50));
    const closed = p.close();
    const late = await send(p, call('/'));
    assert.equal(late.error?.code, 'SLUICE_ERR_UPSTREAM_CONNECT');
    assert.equal(late.info?.requestSent, false);
    await inflight;
    await closed;
    assert.equal(p.stats().open, 0);
  });
  it('ping keepalive: PINGs an idle session, and closes one whose peer stopped answering', async () => {
    let pings = 0;
    const live = http2.createServer();
    live.on('session', (s) => s.on('ping', () => pings++));
    live.on('stream', (stream) => {
      stream.respond({ ':status': 204 });
      stream.end();
    });
    await new Promise<void>((r) => live.listen(0, '127.0.0.1', r));
    // Accepts the TCP connection and then never says a word (a hung peer).
    const mute = net.createServer((sock) => sock.on('data', () => {}));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    try {
      const p = createH2Pool({ origin: new URL(`http://127.0.0.1:${(live.address() as AddressInfo).port}`), connections: 1, keepAliveMs: 5000, connectTimeoutMs: 1000, pingIntervalMs: 30 });
      pools.push(p);
      assert.equal((await send(p, call('/'))).status, 204);
      for (let i = 0; i < 50 && pings < 2; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(pings >= 2, `server saw ${pings} pings`);
      assert.equal(p.stats().open, 1, 'answered pings keep the session');

      const dead = createH2Pool({ origin: new URL(`http://127.0.0.1:${(mute.address() as AddressInfo).port}`), connections: 1, keepAliveMs: 5000, connectTimeoutMs: 1000, pingIntervalMs: 50 });
      pools.push(dead);
      // No response timeout: only the keepalive can end this call.
      const r = await send(dead, call('/', { responseTimeoutMs: 0 }));
      assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_RESET');
      // The session's own 'close' follows its streams'.
      for (let i = 0; i < 50 && dead.stats().open > 0; i++) await new Promise((res) => setTimeout(res, 10));
      assert.equal(dead.stats().open, 0);
    } finally {
      live.close();
      mute.close();
    }
  });
});
