import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { hasOpenssl, TestCa, type TestCert } from '../../src/server/test-helpers.ts';
import { startEchoUpstream, startGateway, type TestGateway, type TestServer } from '../helpers/servers.ts';

interface Handshake {
  cn: string;
  fingerprint: string;
  protocol: string | null;
}

/** Complete a TLS handshake and report the served certificate; rejects on any TLS error. */
function handshake(port: number, servername: string | undefined, ca: string, extra: tls.ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', ca, ...(servername === undefined ? {} : { servername }), ...extra }, () => {
      const peer = socket.getPeerCertificate();
      resolve({ cn: String(peer.subject.CN), fingerprint: peer.fingerprint256, protocol: socket.getProtocol() });
      socket.end();
    });
    socket.on('error', reject);
  });
}

interface TlsResponse {
  status: number;
  body: string;
  cn: string;
  socket: net.Socket;
  reused: boolean;
}

function get(port: number, servername: string, ca: string, path = '/', agent: https.Agent | false = false): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, servername, ca, agent, headers: { host: servername } }, (res) => {
      const chunks: Buffer[] = [];
      // Read before 'end': a keep-alive agent takes the socket back then.
      const socket = res.socket as tls.TLSSocket;
      const cn = String(socket.getPeerCertificate().subject?.CN);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), cn, socket, reused: req.reusedSocket });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('https listeners', { skip: !hasOpenssl() && 'openssl CLI not found' }, () => {
  let ca: TestCa;
  let a: TestCert;
  let b: TestCert;
  let d: TestCert;
  let upstream: TestServer;
  let gw: TestGateway;
  let port: number;
  let strictPort: number;

  const certificate = (name: string, cert: TestCert) => ({ name, cert: { file: cert.certFile }, key: { file: cert.keyFile } });
  const document = (certificates = [certificate('a', a), certificate('b', b), certificate('fallback', d)]) => ({
    listeners: [
      { name: 'secure', host: '127.0.0.1', port: 0, protocol: 'https', tls: { certificates, defaultCertificate: 'fallback' } },
      { name: 'strict', host: '127.0.0.1', port: 0, protocol: 'https', tls: { certificates: [certificate('a', a)], minVersion: 'TLSv1.3' } },
    ],
    upstreams: [{ name: 'echo', targets: [{ url: upstream.url }] }],
    routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'echo' }],
  });

  before(async () => {
    ca = new TestCa();
    a = ca.issue('a', { cn: 'a.test', dns: ['a.test'] });
    b = ca.issue('b', { cn: 'wild.b.test', dns: ['*.b.test'] });
    d = ca.issue('d', { cn: 'default.test', dns: ['default.test'] });
    upstream = await startEchoUpstream();
    gw = await startGateway(document());
    port = gw.gateway.addresses().get('secure')!.port;
    strictPort = gw.gateway.addresses().get('strict')!.port;
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    ca.cleanup();
  });

  it('serves the certificate matching the SNI name: exact, wildcard, default', async () => {
    assert.equal((await handshake(port, 'a.test', ca.ca)).cn, 'a.test');
    assert.equal((await handshake(port, 'api.b.test', ca.ca)).cn, 'wild.b.test');
    assert.equal((await handshake(port, 'unknown.test', ca.ca, { rejectUnauthorized: false })).cn, 'default.test');
    assert.equal((await handshake(port, 'x.api.b.test', ca.ca, { rejectUnauthorized: false })).cn, 'default.test');
    assert.equal((await handshake(port, undefined, ca.ca, { rejectUnauthorized: false })).cn, 'default.test');
  });

  it('proxies over https with X-Forwarded-Proto https', async () => {
    const res = await get(port, 'a.test', ca.ca, '/hello');
    assert.equal(res.status, 200);
    const echo = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
    assert.equal(echo.url, '/hello');
    assert.equal(echo.headers['x-forwarded-proto'], 'https');
  });

  it('refuses TLS versions below minVersion', async () => {
    assert.equal((await handshake(port, 'a.test', ca.ca, { maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
    await assert.rejects(handshake(strictPort, 'a.test', ca.ca, { maxVersion: 'TLSv1.2' }));
    assert.equal((await handshake(strictPort, 'a.test', ca.ca)).protocol, 'TLSv1.3');
    // TLSv1.1 against the default minimum (TLSv1.2), the client lowering its own floor as far as it can.
    await assert.rejects(handshake(port, 'a.test', ca.ca, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }));
  });

  it('rejects a config whose key does not match its certificate, keeping the running one', async () => {
    const outcome = await gw.gateway.reload(document([{ name: 'a', cert: { file: a.certFile }, key: { file: b.keyFile } }, certificate('b', b), certificate('fallback', d)]));
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok && outcome.errors.some((e) => e.path === '/listeners/0/tls/certificates/0/key' && /does not match/.test(e.message)), JSON.stringify(outcome));
    assert.equal((await handshake(port, 'api.b.test', ca.ca)).cn, 'wild.b.test');
  });

  it('a reload with a renewed certificate serves it to new connections; open ones keep working', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(port, 'a.test', ca.ca, '/one', agent);
      assert.equal(first.cn, 'a.test');
      const before = await handshake(port, 'a.test', ca.ca);
      // Renew a.test in place: same files, new key and certificate.
      const renewed = ca.issue('a-renewed', { cn: 'a.test', dns: ['a.test', 'renewed.a.test'] });
      copyFileSync(renewed.certFile, a.certFile);
      copyFileSync(renewed.keyFile, a.keyFile);
      const outcome = await gw.gateway.reload(document());
      assert.ok(outcome.ok, JSON.stringify(outcome));
      const after = await handshake(port, 'a.test', ca.ca);
      assert.notEqual(after.fingerprint, before.fingerprint);
      assert.equal((await handshake(port, 'renewed.a.test', ca.ca)).cn, 'a.test');
      const second = await get(port, 'a.test', ca.ca, '/two', agent);
      assert.equal(second.status, 200);
      assert.equal(second.reused, true);
      assert.equal(second.socket, first.socket);
      assert.equal((second.socket as tls.TLSSocket).getPeerCertificate().fingerprint256, before.fingerprint);
    } finally {
      agent.destroy();
    }
  });
});

describe('https listener protocol change', { skip: !hasOpenssl() && 'openssl CLI not found' }, () => {
  let ca: TestCa;
  let a: TestCert;
  let upstream: TestServer;
  let gw: TestGateway;

  before(async () => {
    ca = new TestCa();
    a = ca.issue('a', { cn: 'a.test', dns: ['a.test'] });
    upstream = await startEchoUpstream();
  });
  after(async () => {
    await gw?.close();
    await upstream.close();
    ca.cleanup();
  });

  it('rebinds the same port when http becomes https and back', async () => {
    const port = await freePort();
    const document = (protocol: 'http' | 'https') => ({
      listeners: [
        {
          name: 'public',
          host: '127.0.0.1',
          port,
          protocol,
          ...(protocol === 'https' ? { tls: { certificates: [{ cert: a.cert, key: a.key }] } } : {}),
        },
      ],
      upstreams: [{ name: 'echo', targets: [{ url: upstream.url }] }],
      routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'echo' }],
    });
    const plain = () =>
      new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
        }).on('error', reject);
      });
    gw = await startGateway(document('http'));
    assert.equal(await plain(), '200');
    assert.ok((await gw.gateway.reload(document('https'))).ok);
    const secure = await get(port, 'a.test', ca.ca);
    assert.equal(secure.status, 200);
    assert.equal((JSON.parse(secure.body) as { headers: Record<string, string> }).headers['x-forwarded-proto'], 'https');
    await assert.rejects(plain());
    assert.ok((await gw.gateway.reload(document('http'))).ok);
    assert.equal(await plain(), '200');
  });
});
