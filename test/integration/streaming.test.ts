import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { rawRequest, request, startGateway, startUpstream, type TestGateway, type TestServer } from '../helpers/servers.ts';

describe('streaming, aborts and special responses', () => {
  let upstream: TestServer;
  let gw: TestGateway;
  const aborted: string[] = [];

  before(async () => {
    upstream = await startUpstream((req, res) => {
      const url = req.url ?? '/';
      if (url === '/hash') {
        const hash = createHash('sha256');
        let n = 0;
        req.on('data', (c: Buffer) => {
          hash.update(c);
          n += c.length;
        });
        req.on('end', () => res.end(JSON.stringify({ bytes: n, sha256: hash.digest('hex') })));
        return;
      }
      if (url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 7);
        let left = 80; // 5 MiB, written with backpressure
        const pump = () => {
          while (left > 0) {
            left--;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        return pump();
      }
      if (url === '/hang') {
        res.writeHead(200);
        res.write('started');
        res.on('close', () => aborted.push('hang'));
        return;
      }
      if (url === '/no-content') return void res.writeHead(204).end();
      if (url === '/not-modified') return void res.writeHead(304, { etag: '"v1"' }).end();
      if (url === '/head') {
        res.writeHead(200, { 'content-length': '11', 'content-type': 'text/plain' });
        return void res.end(req.method === 'HEAD' ? undefined : 'hello world');
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
      res.end('default');
    });
    gw = await startGateway({
      listeners: [{ name: 'public', host: '127.0.0.1', port: 0, limits: { maxBodySize: '64mb' } }],
      upstreams: [{ name: 'u', targets: [{ url: upstream.url }] }],
      routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'u' }],
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  function upload(chunked: boolean, size: number): Promise<{ bytes: number; sha256: string; expected: string }> {
    return new Promise((resolve, reject) => {
      const hash = createHash('sha256');
      const headers: Record<string, string> = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(size) };
      const req = http.request(`${gw.url}/hash`, { method: 'PUT', agent: false, headers }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ ...JSON.parse(body), expected: hash.digest('hex') }));
      });
      req.on('error', reject);
      let sent = 0;
      const write = () => {
        while (sent < size) {
          const chunk = Buffer.alloc(Math.min(65536, size - sent), sent & 0xff);
          sent += chunk.length;
          hash.update(chunk);
          if (!req.write(chunk)) return void req.once('drain', write);
        }
        req.end();
      };
      write();
    });
  }

  it('streams a 5 MiB request body with Content-Length intact', async () => {
    const r = await upload(false, 5 * 1024 * 1024);
    assert.equal(r.bytes, 5 * 1024 * 1024);
    assert.equal(r.sha256, r.expected);
  });

  it('streams a 5 MiB chunked request body intact', async () => {
    const r = await upload(true, 5 * 1024 * 1024 + 17);
    assert.equal(r.bytes, 5 * 1024 * 1024 + 17);
    assert.equal(r.sha256, r.expected);
  });

  it('streams a 5 MiB response body to a slow reader', async () => {
    const total = await new Promise<number>((resolve, reject) => {
      http.get(`${gw.url}/big`, { agent: false }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          res.pause();
          setImmediate(() => res.resume());
        });
        res.on('end', () => resolve(n));
        res.on('error', reject);
      });
    });
    assert.equal(total, 80 * 64 * 1024);
  });

  it('propagates a client abort to the upstream', async () => {
    await new Promise<void>((resolve) => {
      const req = http.get(`${gw.url}/hang`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
    });
    for (let i = 0; i < 50 && !aborted.includes('hang'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(aborted.includes('hang'), 'upstream saw the connection close');
  });

  it('passes 204 and 304 without a body', async () => {
    assert.equal((await request(`${gw.url}/no-content`)).status, 204);
    const nm = await request(`${gw.url}/not-modified`);
    assert.equal(nm.status, 304);
    assert.equal(nm.headers.etag, '"v1"');
    assert.equal(nm.body, '');
  });

  it('answers HEAD with the upstream Content-Length and no body', async () => {
    const reply = await rawRequest(gw.port, 'HEAD /head HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 /);
    assert.match(reply, /content-length: 11/i);
    assert.ok(reply.endsWith('\r\n\r\n'), 'no body after the head');
  });

  it('forwards response trailers on chunked responses', async () => {
    const trailers = await new Promise<NodeJS.Dict<string>>((resolve) => {
      http.get(`${gw.url}/trailers`, { agent: false, headers: { te: 'trailers' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.trailers));
      });
    });
    assert.equal(trailers['x-checksum'], 'abc');
  });

  it('relays 103 Early Hints before the final response', async () => {
    const reply = await rawRequest(gw.port, 'GET /hints HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 103 Early Hints\r\n[^]*link: <\/style\.css>; rel=preload; as=style/i);
    assert.match(reply, /HTTP\/1\.1 200 OK[^]*after hints$/);
  });

  it('handles Expect: 100-continue by answering 100 then forwarding the body', async () => {
    const result = await new Promise<{ continued: boolean; body: string }>((resolve, reject) => {
      let continued = false;
      const req = http.request(`${gw.url}/hash`, { method: 'POST', agent: false, headers: { expect: '100-continue', 'content-length': '5' } });
      req.on('continue', () => {
        continued = true;
        req.end('hello');
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ continued, body }));
      });
      req.on('error', reject);
    });
    assert.ok(result.continued);
    assert.equal(JSON.parse(result.body).bytes, 5);
  });

  it('keeps the upstream connection alive across requests', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await request(`${gw.url}/x`)).body, 'default');
    const pools = [...gw.gateway.current().upstreams.get('u')!.targets];
    assert.equal(pools[0]!.pool.stats().connectsTotal <= 3, true);
  });
});
