import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { hasOpenssl, TestCa } from '../../src/server/test-helpers.ts';
import { startCli, stopCli } from '../helpers/cli.ts';
import * as grpc from '@grpc/grpc-js';
import { deserializeReply, EchoClient, parseWebBody, serializeRequest, startGrpcServer, webFrame, type GrpcTestServer } from '../helpers/grpc.ts';
import { request, startGateway, type TestGateway } from '../helpers/servers.ts';

/** HTTP/1.1 clients → gateway → HTTP/2 upstreams (node:http2 and @grpc/grpc-js servers over h2c). */

interface H2Upstream {
  url: string;
  server: http2.Http2Server;
  sessions: number;
  close(): Promise<void>;
}

async function startH2(handler: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, session: http2.ServerHttp2Session) => void): Promise<H2Upstream> {
  const server = http2.createServer();
  const live = new Set<http2.ServerHttp2Session>();
  const state: H2Upstream = { url: '', server, sessions: 0, close: async () => {} };
  server.on('session', (s) => {
    state.sessions++;
    live.add(s);
    s.on('close', () => live.delete(s));
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    handler(stream, headers, stream.session as http2.ServerHttp2Session);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `h2c://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((resolve) => {
      for (const s of live) s.destroy();
      server.close(() => resolve());
    });
  return state;
}

const MiB = 1 << 20;

function chunkOf(i: number): Buffer {
  return Buffer.alloc(64 * 1024, i % 251);
}

describe('HTTP/2 upstreams', () => {
  let h2: H2Upstream;
  let gw: TestGateway;
  /** Bytes the streaming upstream managed to write for the slow-client test. */
  let bigWritten = 0;

  before(async () => {
    h2 = await startH2((stream, headers, session) => {
      const path = headers[':path']!;
      if (path.startsWith('/echo-headers')) {
        stream.respond({ ':status': 201, 'content-type': 'application/json', 'x-up': 'yes', 'set-cookie': ['a=1', 'b=2'] }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc123' }));
        stream.end(JSON.stringify(headers));
        return;
      }
      if (path === '/upload') {
        const hash = createHash('sha256');
        let n = 0;
        stream.on('data', (c: Buffer) => {
          n += c.length;
          hash.update(c);
        });
        stream.on('end', () => {
          stream.respond({ ':status': 200, 'content-type': 'application/json' });
          stream.end(JSON.stringify({ bytes: n, sha: hash.digest('hex') }));
        });
        return;
      }
      if (path.startsWith('/download')) {
        const total = Number(new URL(path, 'http://x').searchParams.get('mib')) * MiB;
        stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
        let i = 0;
        bigWritten = 0;
        const pump = () => {
          while (bigWritten < total && !stream.destroyed) {
            const c = chunkOf(i++);
            bigWritten += c.length;
            if (!stream.write(c)) return void stream.once('drain', pump);
          }
          if (!stream.destroyed) stream.end();
        };
        pump();
        return;
      }
      if (path === '/reset') {
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        return;
      }
      if (path === '/goaway') {
        stream.respond({ ':status': 200 });
        stream.end('bye');
        // Graceful GOAWAY: this stream completes, the next request must use a new session.
        session.close();
        return;
      }
      stream.respond({ ':status': 200 });
      stream.end(`ok ${path}`);
    });
    gw = await startGateway({
      upstreams: [
        { name: 'h2', targets: [{ url: h2.url }] },
        { name: 'down', targets: [{ url: 'h2c://127.0.0.1:1' }] },
      ],
      routes: [
        { name: 'down', match: { paths: ['/down/*'] }, upstream: 'down' },
        { name: 'all', match: { paths: ['/*'] }, upstream: 'h2' },
      ],
    });
  });
  after(async () => {
    await gw.close();
    await h2.close();
  });

  it('maps request headers to an HTTP/2 block and response headers and trailers back', async () => {
    const res = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; trailers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      http
        .request(`${gw.url}/echo-headers?q=1`, { agent: false, headers: { host: 'api.example.com', te: 'trailers, deflate', connection: 'keep-alive, x-hop', 'x-hop': '1', 'x-custom': 'c' } }, (r) => {
          let body = '';
          r.on('data', (c) => (body += c));
          r.on('end', () => resolve({ status: r.statusCode!, headers: r.headers, trailers: r.trailers, body }));
        })
        .on('error', reject)
        .end();
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers['x-up'], 'yes');
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(res.trailers['x-checksum'], 'abc123');
    const seen = JSON.parse(res.body) as Record<string, string>;
    assert.equal(seen[':method'], 'GET');
    assert.equal(seen[':path'], '/echo-headers?q=1');
    assert.equal(seen[':scheme'], 'http');
    assert.equal(seen[':authority'], 'api.example.com');
    assert.equal(seen['x-custom'], 'c');
    assert.equal(seen['x-hop'], undefined);
    assert.equal(seen.connection, undefined);
    assert.equal(seen.host, undefined);
    assert.equal(seen.te, undefined, 'a plain HTTP request does not get te upstream');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  });

  it('streams an 8 MiB body both ways', async () => {
    const hash = createHash('sha256');
    const up = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${gw.url}/upload`, { method: 'POST', agent: false }, (r) => {
        let body = '';
        r.on('data', (c) => (body += c));
        r.on('end', () => resolve(body));
      });
      req.on('error', reject);
      let i = 0;
      const write = () => {
        while (i < 128) {
          const c = chunkOf(i++);
          hash.update(c);
          if (!req.write(c)) return void req.once('drain', write);
        }
        req.end();
      };
      write();
    });
    assert.deepEqual(JSON.parse(up), { bytes: 8 * MiB, sha: hash.digest('hex') });

    const down = await new Promise<number>((resolve, reject) => {
      http.get(`${gw.url}/download?mib=8`, { agent: false }, (r) => {
        let n = 0;
        r.on('data', (c: Buffer) => (n += c.length));
        r.on('end', () => resolve(n));
      }).on('error', reject);
    });
    assert.equal(down, 8 * MiB);
  });

  it('a slow client does not make the gateway buffer the whole response (HTTP/2 flow control holds the upstream)', async () => {
    const total = 64 * MiB;
    const got = await new Promise<{ whilePaused: number; received: number }>((resolve, reject) => {
      http.get(`${gw.url}/download?mib=64`, { agent: false }, (r) => {
        let received = 0;
        r.once('data', (c: Buffer) => {
          received += c.length;
          r.pause();
          // Give the upstream every chance to push all it can while nobody reads.
          setTimeout(() => {
            const whilePaused = bigWritten;
            r.on('data', (c2: Buffer) => (received += c2.length));
            r.on('end', () => resolve({ whilePaused, received }));
            r.resume();
          }, 700);
        });
      }).on('error', reject);
    });
    assert.ok(got.whilePaused < total / 4, `upstream wrote ${got.whilePaused} bytes while the client was paused`);
    assert.equal(got.received, total);
  });

  it('after an upstream GOAWAY the next request uses a new session', async () => {
    const before = h2.sessions;
    assert.equal((await request(`${gw.url}/goaway`)).body, 'bye');
    await new Promise((r) => setTimeout(r, 50));
    const next = await request(`${gw.url}/after-goaway`);
    assert.equal(next.status, 200);
    assert.equal(next.body, 'ok /after-goaway');
    assert.ok(h2.sessions > before, 'a new session was opened');
  });

  it('an upstream stream reset is a 502 SLUICE_ERR_UPSTREAM_RESET; a refused connect is SLUICE_ERR_UPSTREAM_CONNECT', async () => {
    const reset = await request(`${gw.url}/reset`);
    assert.equal(reset.status, 502);
    assert.equal(JSON.parse(reset.body).code, 'SLUICE_ERR_UPSTREAM_RESET');
    const refused = await request(`${gw.url}/down/x`);
    assert.equal(refused.status, 502);
    assert.equal(JSON.parse(refused.body).code, 'SLUICE_ERR_UPSTREAM_CONNECT');
    // The session survives a stream reset: the next call works.
    assert.equal((await request(`${gw.url}/still`)).body, 'ok /still');
  });
});

describe('HTTPS + http2 upstreams (TLS with ALPN h2)', { skip: !hasOpenssl() && 'openssl not installed' }, () => {
  it('negotiates h2 with the configured SNI name; certificate checks still apply', async () => {
    const ca = new TestCa();
    const cert = ca.issue('grpc', { cn: 'grpc.test', dns: ['grpc.test'] });
    // An h2-only server: an HTTP/1.1 client would fail ALPN.
    const server = http2.createSecureServer({ cert: cert.cert, key: cert.key });
    const seen: { alpn?: string; servername?: string } = {};
    server.on('stream', (stream) => {
      const socket = stream.session!.socket as unknown as { alpnProtocol: string; servername: string };
      seen.alpn = socket.alpnProtocol;
      seen.servername = socket.servername;
      stream.respond({ ':status': 200 });
      stream.end('secure');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const gw = await startGateway({
      upstreams: [
        { name: 'tls-h2', protocol: 'http2', targets: [{ url }], tls: { rejectUnauthorized: false, servername: 'grpc.test' } },
        { name: 'tls-strict', protocol: 'http2', targets: [{ url: `${url}/` }], tls: { servername: 'grpc.test' } },
      ],
      routes: [
        { name: 'strict', match: { paths: ['/strict/*'] }, upstream: 'tls-strict' },
        { name: 'all', match: { paths: ['/*'] }, upstream: 'tls-h2' },
      ],
    });
    try {
      const r = await request(`${gw.url}/x`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'secure');
      assert.deepEqual(seen, { alpn: 'h2', servername: 'grpc.test' });
      // Unknown CA: refused at connect, nothing sent.
      const strict = await request(`${gw.url}/strict/x`);
      assert.equal(strict.status, 502);
      assert.equal(JSON.parse(strict.body).code, 'SLUICE_ERR_UPSTREAM_CONNECT');
    } finally {
      await gw.close();
      await new Promise((r) => server.close(r));
      ca.cleanup();
    }
  });
});

describe('gRPC upstreams over the HTTP/2 pool', () => {
  let a: GrpcTestServer;
  let b: GrpcTestServer;
  before(async () => {
    a = await startGrpcServer('a');
    b = await startGrpcServer('b');
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  it('balances per call: calls sharing one session per target still reach both targets', async () => {
    const gw = await startGateway({
      upstreams: [{ name: 'grpc', targets: [{ url: a.url }, { url: b.url }] }],
      routes: [{ name: 'echo', match: { paths: ['/sluice.test.Echo/*'] }, upstream: 'grpc' }],
    });
    try {
      const servers: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await new Promise<Buffer>((resolve, reject) => {
          const req = http.request(`${gw.url}/sluice.test.Echo/Unary`, { method: 'POST', headers: { 'content-type': 'application/grpc-web+proto' } }, (res) => {
            const parts: Buffer[] = [];
            res.on('data', (c: Buffer) => parts.push(c));
            res.on('end', () => resolve(Buffer.concat(parts)));
          });
          req.on('error', reject);
          req.end(webFrame(serializeRequest({ message: String(i) })));
        });
        servers.push(deserializeReply(parseWebBody(r).messages[0]!).server);
      }
      assert.deepEqual([...new Set(servers)].sort(), ['a', 'b']);
      assert.equal(a.calls.Unary, 3);
      assert.equal(b.calls.Unary, 3);
    } finally {
      await gw.close();
    }
  });

  it('`sluice proxy --to h2c://…` puts the gateway in front of a gRPC server', async () => {
    const { child, output } = await startCli(['proxy', '--listen', '0', '--host', '127.0.0.1', '--to', a.url], {}, /listener started/);
    try {
      const match = /"port":(\d+)[^\n]*"msg":"listener started"/.exec(output());
      assert.ok(match, output());
      const r = await new Promise<Buffer>((resolve, reject) => {
        const req = http.request(`http://127.0.0.1:${match[1]}/sluice.test.Echo/Unary`, { method: 'POST', agent: false, headers: { 'content-type': 'application/grpc-web' } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve(Buffer.concat(parts)));
        });
        req.on('error', reject);
        req.end(webFrame(serializeRequest({ message: 'via-cli' })));
      });
      const { messages, trailers } = parseWebBody(r);
      assert.equal(deserializeReply(messages[0]!).message, 'via-cli');
      assert.equal(trailers['grpc-status'], '0');
      // …and a native gRPC client on the same port (h2c prior knowledge beside HTTP/1.1).
      const client = new EchoClient(`127.0.0.1:${match[1]}`, grpc.credentials.createInsecure()) as unknown as {
        Unary(req: { message: string }, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { message: string }) => void): void;
        close(): void;
      };
      try {
        const reply = await new Promise<{ message: string }>((resolve, reject) =>
          client.Unary({ message: 'native-via-cli' }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, res) => (err === null ? resolve(res!) : reject(err))),
        );
        assert.equal(reply.message, 'native-via-cli');
      } finally {
        client.close();
      }
    } finally {
      assert.equal(await stopCli(child), 0);
    }
  });
});
