import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { TestCa, type TestCert } from '../../src/server/test-helpers.ts';
import { h2Connect, h2Request, runTool } from '../helpers/h2.ts';
import { rawRequest, startGateway, startUpstream, type TestGateway, type TestServer } from '../helpers/servers.ts';

const MiB = 1024 * 1024;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 0x04, 0, 0, 0, 0, 0]);

interface H2Frame {
  type: number;
  stream: number;
  payload: Buffer;
}

/** Split a server's raw HTTP/2 byte stream into frames (enough to spot RST_STREAM and GOAWAY). */
function parseFrames(bytes: Buffer): H2Frame[] {
  const frames: H2Frame[] = [];
  for (let i = 0; i + 9 <= bytes.length; ) {
    const length = bytes.readUIntBE(i, 3);
    frames.push({ type: bytes[i + 3]!, stream: bytes.readUInt32BE(i + 5) & 0x7fffffff, payload: bytes.subarray(i + 9, i + 9 + length) });
    i += 9 + length;
  }
  return frames;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface UpstreamState {
  /** Bytes the /big handler has handed to res.write so far. */
  bigWritten: number;
}

function startTestUpstream(state: UpstreamState): Promise<TestServer> {
  return startUpstream((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/echo')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.stringify({ method: req.method, url, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'keep-alive', 'keep-alive': 'timeout=5' });
        res.end(body);
      });
      return;
    }
    if (url === '/hash') {
      const hash = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        n += c.length;
      });
      req.on('end', () => res.end(JSON.stringify({ bytes: n, sha256: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null })));
      return;
    }
    if (url === '/trailers') {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('body');
      res.addTrailers({ 'x-checksum': 'abc' });
      return void res.end();
    }
    if (url === '/hints') {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      return void res.end('after hints');
    }
    if (url === '/big') {
      // 64 MiB written with backpressure: `bigWritten` only grows as fast as the gateway reads.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(64 * MiB) });
      const chunk = Buffer.alloc(64 * 1024, 7);
      let left = 1024;
      const pump = (): void => {
        while (left > 0) {
          left--;
          state.bigWritten += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    if (url === '/slow') {
      setTimeout(() => res.end('slow done'), 700);
      return;
    }
    if (url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let sent = 0;
      const send = (): void => {
        res.write(`data: ${sent}\n\n`);
        if (++sent === 4) return void res.end();
        setTimeout(send, 400);
      };
      return send();
    }
    res.end('default');
  });
}

const routes = (upstreamUrl: string) => ({
  upstreams: [{ name: 'u', targets: [{ url: upstreamUrl }] }],
  routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'u' }],
});

describe('HTTP/2 on public listeners', () => {
  const state: UpstreamState = { bigWritten: 0 };
  let upstream: TestServer;
  let gw: TestGateway;
  let h2c: http2.ClientHttp2Session;

  before(async () => {
    upstream = await startTestUpstream(state);
    gw = await startGateway({
      listeners: [{ name: 'public', host: '127.0.0.1', port: 0, limits: { maxBodySize: '16mb' }, http2: { maxConcurrentStreams: 50 } }],
      ...routes(upstream.url),
    });
    h2c = await h2Connect(gw.url);
  });
  after(async () => {
    h2c.destroy();
    await gw.close();
    await upstream.close();
  });

  it('h2c prior knowledge: the HTTP/1.1 upstream sees Host, joined cookies, X-Forwarded-Proto and no pseudo-headers', async () => {
    // 200 cookie crumbs: more fields than node:http2's default limit of 128, well within 16 KiB.
    const crumbs = Array.from({ length: 200 }, (_, i) => `c${i}=${i}`);
    const res = await h2Request(h2c, { ':path': '/echo?q=1', cookie: ['a=1', 'b=2', ...crumbs], 'x-multi': ['1', '2'], 'x-forwarded-proto': 'spoofed' });
    assert.equal(res.status, 200);
    const seen = JSON.parse(res.body.toString()) as { url: string; headers: Record<string, string>; rawHeaders: string[] };
    assert.equal(seen.url, '/echo?q=1');
    // preserveHost (the default): Host is the client's :authority.
    assert.equal(seen.headers.host, `127.0.0.1:${gw.port}`);
    assert.equal(seen.headers['x-forwarded-host'], `127.0.0.1:${gw.port}`);
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers.cookie, ['a=1', 'b=2', ...crumbs].join('; '));
    assert.equal(seen.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'cookie').length, 1);
    assert.equal(seen.headers['x-multi'], '1, 2');
    assert.ok(!seen.rawHeaders.some((h, i) => i % 2 === 0 && h.startsWith(':')), 'no pseudo-header reaches the upstream');
    // Connection-specific upstream headers never reach an h2 client.
    assert.equal(res.headers.connection, undefined);
    assert.equal(res.headers['keep-alive'], undefined);
    assert.equal(res.headers['content-type'], 'application/json');
    const line = gw.logs.find((l) => typeof l.path === 'string' && l.path === '/echo');
    assert.ok(line !== undefined, 'the h2 request is in the access log');
    assert.equal(line.httpVersion, '2.0');
    assert.equal(line.status, 200);
  });

  it('request bodies: with and without content-length, streamed, hashed intact', async () => {
    const chunk = Buffer.alloc(256 * 1024, 3);
    const chunks = Array.from({ length: 32 }, () => chunk); // 8 MiB
    const expected = createHash('sha256');
    for (const c of chunks) expected.update(c);
    const digest = expected.digest('hex');
    const streamed = await h2Request(h2c, { ':method': 'POST', ':path': '/hash' }, chunks);
    const a = JSON.parse(streamed.body.toString()) as { bytes: number; sha256: string; te: string | null };
    assert.deepEqual([streamed.status, a.bytes, a.sha256, a.te], [200, 8 * MiB, digest, 'chunked']);
    const sized = await h2Request(h2c, { ':method': 'PUT', ':path': '/hash', 'content-length': String(8 * MiB) }, chunks);
    const b = JSON.parse(sized.body.toString()) as { bytes: number; sha256: string; cl: string | null };
    assert.deepEqual([sized.status, b.bytes, b.sha256, b.cl], [200, 8 * MiB, digest, String(8 * MiB)]);
    const small = await h2Request(h2c, { ':method': 'POST', ':path': '/echo' }, 'hello h2');
    assert.equal((JSON.parse(small.body.toString()) as { body: string }).body, 'hello h2');
  });

  it('body limits hold without content-length (413) and with a declared one', async () => {
    const chunk = Buffer.alloc(1 * MiB, 1);
    const over = await h2Request(h2c, { ':method': 'POST', ':path': '/hash' }, Array.from({ length: 17 }, () => chunk)).catch((e: Error) => e);
    // Either the 413 arrives or the stream is reset after it; never a 200.
    if (!(over instanceof Error)) assert.equal(over.status, 413);
    const declared = await h2Request(h2c, { ':method': 'POST', ':path': '/hash', 'content-length': String(17 * MiB) }, Array.from({ length: 17 }, () => chunk)).catch((e: Error) => e);
    if (!(declared instanceof Error)) assert.equal(declared.status, 413);
    assert.ok(!(over instanceof Error) || !(declared instanceof Error), 'at least one 413 response was seen');
    // The session survives a rejected stream.
    assert.equal((await h2Request(h2c, { ':path': '/default' })).status, 200);
  });

  it('trailers of a chunked HTTP/1.1 upstream response reach the h2 client; 103 early hints too', async () => {
    const res = await h2Request(h2c, { ':path': '/trailers' });
    assert.equal(res.body.toString(), 'body');
    assert.equal(res.trailers?.['x-checksum'], 'abc');
    const hints = await new Promise<http2.IncomingHttpHeaders[]>((resolve, reject) => {
      const got: http2.IncomingHttpHeaders[] = [];
      const stream = h2c.request({ ':path': '/hints' });
      stream.on('headers', (h) => got.push(h));
      stream.on('error', reject);
      stream.resume();
      stream.on('end', () => resolve(got));
    });
    assert.equal(hints[0]?.[':status'], 103);
    assert.match(String(hints[0]?.link), /style\.css/);
  });

  it('many concurrent streams on one session', async () => {
    const results = await Promise.all(Array.from({ length: 120 }, (_, i) => h2Request(h2c, { ':path': `/echo/${i}` })));
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
    results.forEach((r, i) => assert.equal((JSON.parse(r.body.toString()) as { url: string }).url, `/echo/${i}`));
  });

  it('HTTP/1.1 keeps working on the same port, keep-alive included', async () => {
    const reply = await rawRequest(gw.port, 'GET /echo/1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo/2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi', 1000);
    assert.equal(reply.match(/HTTP\/1\.1 200 OK/g)?.length, 2);
    // A first byte of "P" (POST) must not be taken for the h2 preface.
    const post = await rawRequest(gw.port, 'POST /echo/3 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 1000);
    assert.match(post, /^HTTP\/1\.1 200 OK/);
  });

  it('a slow h2 reader of a 64 MiB response holds the upstream back (bounded buffering)', async () => {
    state.bigWritten = 0;
    const stream = h2c.request({ ':path': '/big' });
    let received = 0;
    stream.pause();
    await new Promise((resolve) => stream.once('response', resolve));
    await new Promise((r) => setTimeout(r, 1500));
    const writtenWhilePaused = state.bigWritten;
    // Windows and socket buffers hold a few MiB at most; without backpressure all 64 MiB would be gone.
    assert.ok(writtenWhilePaused < 24 * MiB, `upstream wrote ${writtenWhilePaused} bytes to a reader that read nothing`);
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (c: Buffer) => (received += c.length));
      stream.on('end', resolve);
      stream.on('error', reject);
      stream.resume();
    });
    assert.equal(received, 64 * MiB);
  });

  it('server-sent events over h2 arrive one by one, not at the end', async () => {
    const arrivals: number[] = [];
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const stream = h2c.request({ ':path': '/sse', accept: 'text/event-stream' });
      stream.setEncoding('utf8');
      let buffer = '';
      stream.on('data', (c: string) => {
        buffer += c;
        while (buffer.includes('\n\n')) {
          buffer = buffer.slice(buffer.indexOf('\n\n') + 2);
          arrivals.push(Date.now() - started);
        }
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    assert.equal(arrivals.length, 4);
    // The upstream spaces its 4 events 400 ms apart: the first must not wait for the last.
    assert.ok(arrivals[3]! - arrivals[0]! >= 800, `events arrived at ${arrivals.join(', ')} ms`);
  });

  it('nghttp (prior knowledge) and h2load speak h2c to the listener', async () => {
    const ng = await runTool('nghttp', ['-nv', `${gw.url}/echo/nghttp`]);
    assert.equal(ng.code, 0, ng.stderr);
    assert.match(ng.stdout, /recv HEADERS frame/);
    assert.match(ng.stdout, /:status: 200/);
    assert.doesNotMatch(ng.stdout, /HTTP Upgrade/);
    const load = await runTool('h2load', ['-n', '2000', '-c', '10', '-m', '10', `${gw.url}/echo/load`], 60_000);
    assert.match(load.stdout, /2000 succeeded, 0 failed, 0 errored/, load.stdout + load.stderr);
    assert.match(load.stdout, /Application protocol: h2c/);
    // curl with prior knowledge; Expect: 100-continue is answered with :status 100 before the body.
    const curl = await runTool('curl', ['-sSv', '--http2-prior-knowledge', '-H', 'Expect: 100-continue', '--expect100-timeout', '10', '--data-binary', 'x'.repeat(2048), `${gw.url}/hash`]);
    assert.match(curl.stderr, /< HTTP\/2 100/);
    assert.match(curl.stderr, /< HTTP\/2 200/);
    assert.equal((JSON.parse(curl.stdout) as { bytes: number }).bytes, 2048);
  });

  it('malformed h2 input costs only that connection', async () => {
    // A valid preface, then a frame of an absurd length and garbage.
    const bad = Buffer.concat([PREFACE, Buffer.from([0xff, 0xff, 0xff, 0x01, 0x00, 0, 0, 0, 1]), Buffer.alloc(64, 0xab)]);
    const reply = parseFrames(Buffer.from(await rawRequest(gw.port, bad, 1000), 'latin1'));
    // The server answers with its SETTINGS and a GOAWAY (type 0x7) before closing.
    assert.ok(reply.some((f) => f.type === 0x7), 'a GOAWAY frame came back');
    // Headers on a closed/even stream id: another protocol error.
    const evenStream = Buffer.concat([PREFACE, EMPTY_SETTINGS, Buffer.from([0, 0, 1, 0x01, 0x05, 0, 0, 0, 2, 0x82])]);
    const even = parseFrames(Buffer.from(await rawRequest(gw.port, evenStream, 500), 'latin1'));
    assert.ok(even.some((f) => f.type === 0x7), 'GOAWAY for a client stream with an even id');
    // Connection-specific fields make a request malformed: that stream is reset (PROTOCOL_ERROR);
    // "te: trailers" is allowed. Raw HPACK, since node's client refuses to send such fields:
    // 0x82 :method GET, 0x84 :path /, 0x86 :scheme http, 0x41 :authority "a", then a literal field.
    const withField = async (name: string, value: string): Promise<H2Frame[]> => {
      const block = Buffer.from([0x82, 0x84, 0x86, 0x41, 0x01, 0x61, 0x00, name.length, ...Buffer.from(name), value.length, ...Buffer.from(value)]);
      const headers = Buffer.concat([Buffer.from([0, 0, block.length, 0x01, 0x05, 0, 0, 0, 1]), block]);
      const reply = await rawRequest(gw.port, Buffer.concat([PREFACE, EMPTY_SETTINGS, headers]), 600);
      return parseFrames(Buffer.from(reply, 'latin1'));
    };
    for (const [name, value] of [['connection', 'close'], ['te', 'gzip'], ['upgrade', 'h2c']] as const) {
      const reset = (await withField(name, value)).find((f) => f.type === 0x3 && f.stream === 1);
      assert.equal(reset?.payload.readUInt32BE(0), http2.constants.NGHTTP2_PROTOCOL_ERROR, `${name}: ${value}`);
    }
    const ok = await withField('te', 'trailers');
    assert.ok(ok.some((f) => f.type === 0x1 && f.stream === 1), 'te: trailers is answered');
    // The gateway is still there for everyone else.
    const fresh = await h2Connect(gw.url);
    try {
      assert.equal((await h2Request(fresh, { ':path': '/default' })).status, 200);
    } finally {
      fresh.close();
    }
  });

  it('/admin-visible connection counts include h2 sessions', async () => {
    const before = gw.gateway.local.connections().find((c) => c.listener === 'public')!;
    const session = await h2Connect(gw.url);
    try {
      await h2Request(session, { ':path': '/default' });
      const during = gw.gateway.local.connections().find((c) => c.listener === 'public')!;
      assert.equal(during.total, before.total + 1);
      assert.ok(during.open >= 1);
      // Busy while a stream is open, idle again after: the streams count on the session.
      const slow = h2Request(session, { ':path': '/slow' });
      await new Promise((r) => setTimeout(r, 200));
      const busy = gw.gateway.local.connections().find((c) => c.listener === 'public')!;
      await slow;
      const idle = gw.gateway.local.connections().find((c) => c.listener === 'public')!;
      assert.equal(busy.idle, busy.open - 1);
      assert.equal(idle.idle, idle.open);
    } finally {
      session.close();
    }
  });
});

describe('HTTP/2 over TLS (ALPN), disabled h2, drain and reload', () => {
  let ca: TestCa;
  let cert: TestCert;
  let upstream: TestServer;
  const state: UpstreamState = { bigWritten: 0 };

  before(async () => {
    ca = new TestCa();
    cert = ca.issue('api', { cn: 'api.test', dns: ['api.test', 'localhost'] });
    upstream = await startTestUpstream(state);
  });
  after(async () => {
    await upstream.close();
    ca.cleanup();
  });

  const httpsListener = (extra: Record<string, unknown> = {}) => ({
    name: 'public',
    host: '127.0.0.1',
    port: 0,
    protocol: 'https',
    tls: { certificates: [{ cert: cert.cert, key: cert.key }] },
    ...extra,
  });

  it('ALPN h2 for h2 clients, http/1.1 fallback for the others, nghttp over TLS', async () => {
    const gw = await startGateway({ listeners: [httpsListener()], ...routes(upstream.url) });
    try {
      const authority = `https://localhost:${gw.port}`;
      const session = await h2Connect(authority, { ca: ca.ca });
      try {
        assert.equal((session.socket as tls.TLSSocket).alpnProtocol, 'h2');
        const res = await h2Request(session, { ':path': '/echo' });
        assert.equal(res.status, 200);
        const seen = JSON.parse(res.body.toString()) as { headers: Record<string, string> };
        assert.equal(seen.headers['x-forwarded-proto'], 'https');
        assert.equal(seen.headers['x-forwarded-host'], `localhost:${gw.port}`);
      } finally {
        session.close();
      }
      // https.request offers no ALPN: HTTP/1.1. A client offering only http/1.1 gets it too.
      const h1 = await new Promise<{ status: number; version: string }>((resolve, reject) => {
        https
          .get(`${authority}/echo`, { ca: ca.ca, agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, version: res.httpVersion }));
          })
          .on('error', reject);
      });
      assert.deepEqual(h1, { status: 200, version: '1.1' });
      const alpn = await new Promise<string | false>((resolve, reject) => {
        const s = tls.connect({ port: gw.port, host: '127.0.0.1', servername: 'localhost', ca: ca.ca, ALPNProtocols: ['http/1.1'] }, () => {
          resolve(s.alpnProtocol ?? false);
          s.end();
        });
        s.on('error', reject);
      });
      assert.equal(alpn, 'http/1.1');
      const ng = await runTool('nghttp', ['-nv', `${authority}/echo/tls`]);
      assert.equal(ng.code, 0, ng.stderr);
      assert.match(ng.stdout, /:status: 200/);
      const curl = await runTool('curl', ['-sS', '--http2', '--cacert', ca.caFile, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${authority}/echo/curl`]);
      assert.equal(curl.stdout, '2 200', curl.stderr);
    } finally {
      await gw.close();
    }
  });

  it('http2.enabled: false refuses h2 on both listener kinds; HTTP/1.1 still served', async () => {
    const port = await freePort();
    const document = (enabled: boolean) => ({
      listeners: [
        { name: 'public', host: '127.0.0.1', port, http2: { enabled } },
        httpsListener({ name: 'secure', http2: { enabled: false } }),
      ],
      admin: { enabled: false },
      ...routes(upstream.url),
    });
    const gw = await startGateway(document(false));
    try {
      const [plain, secure] = [gw.gateway.addresses().get('public')!.port, gw.gateway.addresses().get('secure')!.port];
      await assert.rejects(
        (async () => {
          const session = await h2Connect(`http://127.0.0.1:${plain}`);
          try {
            await h2Request(session, { ':path': '/default' });
          } finally {
            session.destroy();
          }
        })(),
      );
      const alpn = await new Promise<string | false>((resolve, reject) => {
        const s = tls.connect({ port: secure, host: '127.0.0.1', servername: 'localhost', ca: ca.ca, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
          resolve(s.alpnProtocol ?? false);
          s.end();
        });
        s.on('error', reject);
      });
      assert.notEqual(alpn, 'h2');
      const h1 = await new Promise<number>((resolve, reject) => {
        http.get(`http://127.0.0.1:${plain}/default`, { agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
      assert.equal(h1, 200);
      // A reload turns h2c on in place on the http listener.
      assert.ok((await gw.gateway.reload(document(true))).ok);
      const session = await h2Connect(`http://127.0.0.1:${plain}`);
      try {
        assert.equal((await h2Request(session, { ':path': '/default' })).status, 200);
      } finally {
        session.destroy();
      }
    } finally {
      await gw.close();
    }
  });

  it('idleTimeout closes a session with no open stream, not one with a quiet stream in flight', async () => {
    const gw = await startGateway({ listeners: [{ name: 'public', host: '127.0.0.1', port: 0, http2: { idleTimeout: '300ms' } }], ...routes(upstream.url) });
    try {
      const session = await h2Connect(gw.url);
      const closed = new Promise<void>((resolve) => session.once('close', resolve));
      let responded = false;
      let earlyGoaway = false;
      session.once('goaway', () => (earlyGoaway = !responded));
      // No frame for 700 ms while /slow is pending: the session must get no GOAWAY meanwhile.
      const res = await h2Request(session, { ':path': '/slow' });
      responded = true;
      assert.equal(res.body.toString(), 'slow done');
      assert.equal(earlyGoaway, false);
      await closed;
      assert.ok(session.closed || session.destroyed);
    } finally {
      await gw.close();
    }
  });

  it('timeouts.request cancels a stream whose body trickles; the session and other streams go on', async () => {
    const gw = await startGateway({ listeners: [{ name: 'public', host: '127.0.0.1', port: 0, timeouts: { headers: '300ms', request: '400ms' } }], ...routes(upstream.url) });
    const session = await h2Connect(gw.url);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/hash' });
      stream.write('a');
      const outcome = await new Promise<number>((resolve) => {
        const bound = setTimeout(() => resolve(-2), 5000);
        stream.on('close', () => {
          clearTimeout(bound);
          resolve(stream.rstCode ?? -1);
        });
        stream.on('error', () => {});
        stream.resume();
      });
      assert.equal(outcome, http2.constants.NGHTTP2_CANCEL);
      stream.destroy();
      const ok = await h2Request(session, { ':method': 'POST', ':path': '/hash' }, 'quick');
      assert.equal((JSON.parse(ok.body.toString()) as { bytes: number }).bytes, 5);
    } finally {
      session.destroy();
      await gw.close();
    }
  });

  it('reload keeps open h2 sessions; graceful stop sends GOAWAY and lets an in-flight stream finish', async () => {
    // A fixed port: a reload from port 0 to the bound port would be a new binding (rebind, not in place).
    const port = await freePort();
    const gw = await startGateway({ listeners: [{ name: 'public', host: '127.0.0.1', port }], ...routes(upstream.url) });
    const session = await h2Connect(gw.url);
    try {
      assert.equal((await h2Request(session, { ':path': '/default' })).status, 200);
      const outcome = await gw.gateway.reload({
        listeners: [{ name: 'public', host: '127.0.0.1', port: gw.port, http2: { maxConcurrentStreams: 10, idleTimeout: '30s' } }],
        admin: { enabled: false },
        ...routes(upstream.url),
      });
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.equal((await h2Request(session, { ':path': '/default' })).status, 200, 'the session opened before the reload still serves');
      const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
      const slow = h2Request(session, { ':path': '/slow' });
      await new Promise((r) => setTimeout(r, 150));
      const stopped = gw.gateway.stop({ deadlineMs: 5000, drainDelayMs: 0 });
      assert.equal(await goaway, http2.constants.NGHTTP2_NO_ERROR);
      const res = await slow;
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'slow done');
      await stopped;
      // The listener is gone: no new connection.
      await assert.rejects(new Promise((resolve, reject) => net.connect(gw.port, '127.0.0.1').on('connect', resolve).on('error', reject)));
    } finally {
      session.destroy();
    }
  });
});
