/**
 * Behaviour both TargetPool implementations must share: run once per factory.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { isGatewayError } from '../../errors/index.ts';
import { CountingBody, Fixture, delay, get, header, nextLoop, selfSignedCert, send } from './harness.test.ts';
import { createRawPool, createUndiciPool } from './index.ts';
import type { PoolFactory } from './types.ts';

const MiB = 1024 * 1024;

function suite(name: string, factory: PoolFactory): void {
  describe(`${name} pool`, () => {
    const fx = new Fixture(factory);
    afterEach(() => fx.cleanup());

    it('forwards a GET and returns status, flat raw headers and body', async () => {
      const port = await fx.http((req, res) => {
        res.setHeader('X-Echo', `${req.method} ${req.url} ${req.headers.host}`);
        res.end('hello');
      });
      const r = await send(fx.pool(port), get('/a?b=1'));
      assert.equal(r.error, undefined);
      assert.equal(r.status, 200);
      assert.equal(r.statusText, 'OK');
      assert.equal(header(r.headers, 'x-echo'), 'GET /a?b=1 upstream.test');
      assert.equal(r.body.toString(), 'hello');
      assert.deepEqual(r.trailers, []);
    });

    it('reuses one keep-alive connection for sequential calls', async () => {
      const port = await fx.http((_req, res) => res.end('x'));
      const pool = fx.pool(port);
      for (let i = 0; i < 5; i++) {
        assert.equal((await send(pool, get())).status, 200);
        await nextLoop(); // undici parks a socket for one loop turn before reuse
      }
      assert.equal(pool.stats().connectsTotal, 1);
      assert.equal(pool.stats().idle, 1);
    });

    it('caps connections and queues the rest FIFO', async () => {
      const held: (() => void)[] = [];
      const order: string[] = [];
      const port = await fx.http((req, res) => {
        order.push(req.url!);
        held.push(() => res.end(req.url));
      });
      const pool = fx.pool(port, { connections: 2 });
      const results = Promise.all([1, 2, 3, 4, 5].map((i) => send(pool, get(`/${i}`))));
      while (held.length < 2) await delay(5);
      await delay(20);
      assert.equal(held.length, 2);
      const s = pool.stats();
      assert.equal(s.inflight + s.queued, 5);
      assert.ok(s.queued >= 3);
      while (order.length < 5 || held.length > 0) {
        held.shift()?.();
        await delay(5);
      }
      const rs = await results;
      assert.deepEqual(rs.map((r) => r.body.toString()), ['/1', '/2', '/3', '/4', '/5']);
      assert.deepEqual(order.slice(2), ['/3', '/4', '/5']);
      assert.equal(pool.stats().connectsTotal, 2);
    });

    it('sends no framing for GET and Content-Length: 0 for an empty POST, dropping caller framing', async () => {
      const seen: Record<string, unknown>[] = [];
      const port = await fx.http((req, res) => {
        seen.push({ cl: req.headers['content-length'], te: req.headers['transfer-encoding'] });
        req.resume().on('end', () => res.end());
      });
      const pool = fx.pool(port);
      await send(pool, get('/', { headers: ['Host', 'h', 'Content-Length', '10'] }));
      await send(pool, get('/', { method: 'POST' }));
      assert.deepEqual(seen, [{ cl: undefined, te: undefined }, { cl: '0', te: undefined }]);
    });

    for (const chunked of [true, false]) {
      it(`streams a 5 MiB request body with backpressure (${chunked ? 'chunked' : 'Content-Length'})`, async () => {
        let resumeServer!: () => void;
        const gate = new Promise<void>((r) => (resumeServer = r));
        const port = await fx.http(async (req, res) => {
          const framing = req.headers['transfer-encoding'] ?? `cl=${req.headers['content-length']}`;
          await gate;
          const hash = createHash('sha256');
          let n = 0;
          for await (const c of req) {
            hash.update(c as Buffer);
            n += (c as Buffer).length;
          }
          res.end(`${framing} ${n} ${hash.digest('hex')}`);
        });
        const body = new CountingBody(5 * MiB);
        const pending = send(fx.pool(port), get('/up', {
          method: 'POST', body, contentLength: chunked ? null : 5 * MiB,
        }));
        await delay(300);
        assert.ok(body.produced < 5 * MiB, `body pulled without backpressure: ${body.produced}`);
        resumeServer();
        const r = await pending;
        const expected = createHash('sha256');
        const ref = new CountingBody(5 * MiB);
        for await (const c of ref) expected.update(c as Buffer);
        const framing = chunked ? 'chunked' : `cl=${5 * MiB}`;
        assert.equal(r.body.toString(), `${framing} ${5 * MiB} ${expected.digest('hex')}`);
      });
    }

    it('pauses the upstream while onData returns false, until resume()', async () => {
      let serverBlocked = false;
      const port = await fx.http((_req, res) => {
        res.setHeader('content-length', 4 * MiB);
        const chunk = Buffer.alloc(64 * 1024, 1);
        let sent = 0;
        const pump = (): void => {
          while (sent < 4 * MiB) {
            sent += chunk.length;
            if (!res.write(chunk)) {
              serverBlocked = true;
              return void res.once('drain', pump);
            }
          }
          res.end();
        };
        pump();
      });
      const pool = fx.pool(port);
      let received = 0;
      let pausedAt = -1;
      const done = new Promise<void>((resolve, reject) => {
        const handle = pool.request(get('/big'), {
          onHeaders() {},
          onData(chunk) {
            received += chunk.length;
            if (pausedAt >= 0) return true;
            pausedAt = received;
            setTimeout(() => {
              try {
                assert.ok(received - pausedAt < MiB, `read ${received - pausedAt} bytes while paused`);
                assert.ok(serverBlocked, 'upstream never saw backpressure');
              } catch (e) {
                reject(e);
              }
              handle.resume();
            }, 300);
            return false;
          },
          onEnd: () => resolve(),
          onError: (e) => reject(e),
        });
      });
      await done;
      assert.equal(received, 4 * MiB);
    });

    it('aborts a call: no callbacks afterwards, connection destroyed', async () => {
      let closed = false;
      const port = await fx.http((req, res) => {
        req.socket.on('close', () => (closed = true));
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
      });
      const pool = fx.pool(port);
      let calls = 0;
      await new Promise<void>((resolve) => {
        const handle = pool.request(get(), {
          onHeaders() {
            calls++;
            handle.abort();
            resolve();
          },
          onData: () => (calls++, true),
          onEnd: () => void calls++,
          onError: () => void calls++,
        });
      });
      for (let i = 0; i < 50 && !closed; i++) await delay(10);
      assert.ok(closed, 'upstream connection not closed');
      await delay(20);
      assert.equal(calls, 1);
      assert.equal(pool.stats().inflight, 0);
    });

    it('reports connect refused as SLUICE_ERR_UPSTREAM_CONNECT, nothing sent', async () => {
      const port = await fx.http(() => {});
      await fx.cleanup(); // the port is now closed
      const r = await send(fx.pool(port), get());
      assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_CONNECT');
      assert.deepEqual(r.info, { requestSent: false, responseStarted: false });
    });

    it('times out a missing response head (SLUICE_ERR_UPSTREAM_TIMEOUT, 504)', async () => {
      const port = await fx.http(() => {});
      const r = await send(fx.pool(port), get('/', { responseTimeoutMs: 100 }));
      assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_TIMEOUT');
      assert.equal(r.error?.status, 504);
      assert.deepEqual(r.info, { requestSent: true, responseStarted: false });
    });

    it('times out an idle response body', async () => {
      const port = await fx.http((_req, res) => {
        res.writeHead(200, { 'content-length': '10' });
        res.write('abc');
      });
      const r = await send(fx.pool(port), get('/', { bodyIdleTimeoutMs: 100 }));
      assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_TIMEOUT');
      assert.deepEqual(r.info, { requestSent: true, responseStarted: true });
      assert.equal(r.body.toString(), 'abc');
    });

    it('times out a connect that never completes (TLS handshake never answered)', async () => {
      const port = await fx.raw(() => {});
      const r = await send(fx.pool(port, { connectTimeoutMs: 100 }, 'https'), get());
      assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT');
      assert.equal(r.info?.requestSent, false);
    });

    it('rejects CR/LF/NUL in header names and values synchronously', async () => {
      const pool = fx.pool(1);
      const handler = { onHeaders() {}, onData: () => true, onEnd() {}, onError() {} };
      for (const headers of [['X-A', 'a\r\nX-B: b'], ['X-A\n', 'a'], ['X-A', 'a\0'], ['Bad Name', 'a']]) {
        assert.throws(
          () => pool.request(get('/', { headers }), handler),
          (e: unknown) => isGatewayError(e) && e.code === 'SLUICE_ERR_BAD_REQUEST',
        );
      }
      assert.throws(() => pool.request(get('/a b'), handler), (e: unknown) => isGatewayError(e));
    });

    it('reports a truncated Content-Length body as a reset, never as complete', async () => {
      const port = await fx.canned('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', true);
      const r = await send(fx.pool(port), get());
      assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_RESET');
      assert.deepEqual(r.info, { requestSent: true, responseStarted: true });
    });

    it('reports a truncated chunked body as a reset', async () => {
      const port = await fx.canned('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n', true);
      const r = await send(fx.pool(port), get());
      assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_RESET');
      assert.equal(r.info?.responseStarted, true);
      assert.equal(r.body.toString(), 'abcde');
    });

    it('delivers trailers of a chunked response', async () => {
      const port = await fx.canned(
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n' +
          '3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 42\r\n\r\n',
      );
      const r = await send(fx.pool(port), get());
      assert.equal(r.body.toString(), 'abcde');
      assert.deepEqual(r.trailers, ['X-Sum', '42']);
    });

    it('reads a body delimited by connection close', async () => {
      const port = await fx.canned('HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil the end', true);
      const pool = fx.pool(port);
      const r = await send(pool, get());
      assert.equal(r.error, undefined);
      assert.equal(r.body.toString(), 'until the end');
      assert.equal((await send(pool, get())).status, 200);
      assert.equal(pool.stats().connectsTotal, 2);
    });

    it('passes 1xx informational responses, then the final response', async () => {
      const port = await fx.canned(
        'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n' +
          'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      );
      const r = await send(fx.pool(port), get());
      assert.deepEqual(r.informational, [{ status: 103, headers: ['Link', '</a.css>; rel=preload'] }]);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'ok');
    });

    it('expects no body for HEAD, 204 and 304', async () => {
      const port = await fx.raw((socket, head) => {
        if (head.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
        else if (head.includes('/204')) socket.write('HTTP/1.1 204 No Content\r\n\r\n');
        else socket.write('HTTP/1.1 304 Not Modified\r\nETag: "a"\r\n\r\n');
      });
      const pool = fx.pool(port);
      for (const call of [get('/', { method: 'HEAD' }), get('/204'), get('/304')]) {
        const r = await send(pool, call);
        assert.equal(r.error, undefined, call.path);
        assert.equal(r.body.length, 0);
      }
    });

    it('rejects response heads over 64 KiB', async () => {
      const port = await fx.canned(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\nContent-Length: 0\r\n\r\n`);
      const r = await send(fx.pool(port), get());
      assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_BAD_RESPONSE');
      assert.equal(r.info?.responseStarted, false);
    });

    for (const [what, bytes] of [
      ['both Content-Length and Transfer-Encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
      ['an invalid chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'],
      ['differing Content-Length values', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
      ['a header name with a space', 'HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n'],
    ] as const) {
      it(`rejects ${what}`, async () => {
        const port = await fx.canned(bytes);
        const r = await send(fx.pool(port), get());
        assert.equal(r.error?.code, 'SLUICE_ERR_UPSTREAM_BAD_RESPONSE');
      });
    }

    it('fails with SLUICE_ERR_CLIENT_ABORTED when the request body errors', async () => {
      let upstreamClosed = false;
      const port = await fx.http((req) => {
        req.socket.on('close', () => (upstreamClosed = true));
        req.on('error', () => {});
        req.resume();
      });
      const body = new PassThrough();
      const pending = send(fx.pool(port), get('/', { method: 'POST', body, contentLength: null }));
      body.write('some bytes');
      await delay(50);
      body.destroy(new Error('client went away'));
      const r = await pending;
      assert.equal(r.error?.code, 'SLUICE_ERR_CLIENT_ABORTED');
      for (let i = 0; i < 50 && !upstreamClosed; i++) await delay(10);
      assert.ok(upstreamClosed);
    });

    it('sees a client that disconnects mid-upload through an IncomingMessage body', async () => {
      const upstream = await fx.http((req) => req.resume());
      const pool = fx.pool(upstream);
      const outcome = new Promise<string>((resolve) => {
        void fx.http((req) => {
          pool.request(get('/', { method: 'POST', body: req, contentLength: Number(req.headers['content-length']) }), {
            onHeaders: () => resolve('headers?'), onData: () => true, onEnd: () => resolve('end?'),
            onError: (e) => resolve(e.code),
          });
        }).then((port) => {
          const client = net.connect(port, '127.0.0.1', () => {
            client.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n' + 'a'.repeat(1000));
            setTimeout(() => client.destroy(), 50);
          });
        });
      });
      assert.equal(await outcome, 'SLUICE_ERR_CLIENT_ABORTED');
    });

    it('speaks TLS to an https target with a self-signed certificate', async (t) => {
      const pair = selfSignedCert();
      if (pair === undefined) return t.skip('openssl not available');
      const port = await fx.listen(https.createServer(pair, (req, res) => res.end(`tls ${req.url}`)));
      const ok = await send(fx.pool(port, { tls: { rejectUnauthorized: false } }, 'https'), get('/s'));
      assert.equal(ok.body.toString(), 'tls /s');
      const named = await send(fx.pool(port, { tls: { servername: 'localhost', rejectUnauthorized: false } }, 'https'), get('/n'));
      assert.equal(named.body.toString(), 'tls /n');
      const strict = await send(fx.pool(port, {}, 'https'), get());
      // An untrusted certificate is a TLS failure, told apart from a refused connection.
      assert.equal(strict.error?.code, 'SLUICE_ERR_UPSTREAM_TLS');
      assert.equal(strict.info?.requestSent, false);
    });

    it('close() lets in-flight calls finish and refuses new ones', async () => {
      const port = await fx.http((_req, res) => setTimeout(() => res.end('late'), 50));
      const pool = fx.pool(port);
      const inflight = send(pool, get());
      await delay(10);
      const closing = pool.close();
      const refused = await send(pool, get());
      assert.equal(refused.error?.code, 'SLUICE_ERR_UPSTREAM_CONNECT');
      assert.equal((await inflight).body.toString(), 'late');
      await closing;
      assert.equal(pool.stats().open, 0);
    });

    it('fails a call whose handler throws with SLUICE_ERR_INTERNAL, and keeps the pool usable', async () => {
      const port = await fx.http((_req, res) => res.end('x'));
      const pool = fx.pool(port);
      const error = await new Promise<unknown>((resolve) => {
        pool.request(get(), {
          onHeaders() {
            throw new Error('handler bug');
          },
          onData: () => true,
          onEnd: () => resolve(undefined),
          onError: (e) => resolve(e),
        });
      });
      assert.ok(isGatewayError(error) && error.code === 'SLUICE_ERR_INTERNAL');
      assert.equal((await send(pool, get())).status, 200);
    });

    it('destroy() fails in-flight calls at once', async () => {
      const port = await fx.http(() => {});
      const pool = fx.pool(port);
      const inflight = send(pool, get());
      await delay(50);
      pool.destroy();
      const r = await inflight;
      assert.ok(r.error !== undefined);
      assert.equal(r.late, 0);
    });
  });
}

suite('raw', createRawPool);
suite('undici', createUndiciPool);
