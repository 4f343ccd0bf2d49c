import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { definePlugin } from '../../src/index.ts';
import { Type } from '@sinclair/typebox';
import { hasOpenssl, TestCa, type TestCert } from '../../src/server/test-helpers.ts';
import { WebSocket, WebSocketServer } from 'ws';
import { startEchoUpstream, startGateway, type TestGateway, type TestServer } from '../helpers/servers.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on its own TLS connection (no session reuse), presenting `client` when given. */
function get(port: number, ca: string, client?: TestCert, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/who', servername: 'gw.test', ca, agent: false, headers: { host: 'gw.test', ...headers }, ...(client === undefined ? {} : { cert: client.cert, key: client.key }) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const upstreamHeaders = (reply: Reply): Record<string, string> => (JSON.parse(reply.body) as { headers: Record<string, string> }).headers;

// A plugin that shows what plugins see of the client certificate, as a response header.
const whoami = definePlugin({
  name: 'whoami',
  priority: 0,
  schema: Type.Object({}),
  create: () => ({
    onRequest(ctx) {
      const c = ctx.clientCert;
      ctx.responseHeaders.push('x-plugin-saw', c === undefined ? 'none' : `${c.subject}|${c.sans.uri.join(',')}|${c.sans.email.join(',')}|${c.serial}`);
    },
  }),
});

const FORWARD = { subject: 'x-client-cert-subject', fingerprint: 'x-client-cert-fingerprint', sans: 'x-client-cert-sans', serial: 'x-client-cert-serial', cert: 'x-forwarded-client-cert' };

describe('mTLS listeners (client certificates)', { skip: !hasOpenssl() && 'openssl CLI not found' }, () => {
  let serverCa: TestCa;
  let clientCa: TestCa;
  let otherCa: TestCa;
  let server: TestCert;
  let good: TestCert;
  let revoked: TestCert;
  let foreign: TestCert;
  let crl: string;
  let upstream: TestServer;
  let wsUpstream: WebSocketServer;
  /** Request headers of the last upgrade the WebSocket upstream accepted. */
  let wsSeen: IncomingHttpHeaders = {};
  let gw: TestGateway;
  let required: number;
  let optional: number;

  const document = (ca: string, withCrl = true) => {
    const tls = (mode: 'required' | 'optional') => ({
      certificates: [{ name: 'gw', cert: server.cert, key: server.key }],
      clientAuth: { mode, ca, ...(withCrl ? { crl } : {}), forwardHeaders: FORWARD },
    });
    return {
      listeners: [
        { name: 'required', host: '127.0.0.1', port: 0, protocol: 'https', tls: tls('required') },
        { name: 'optional', host: '127.0.0.1', port: 0, protocol: 'https', tls: tls('optional') },
      ],
      upstreams: [
        { name: 'echo', targets: [{ url: upstream.url }] },
        { name: 'ws', targets: [{ url: `http://127.0.0.1:${(wsUpstream.address() as { port: number }).port}` }] },
      ],
      routes: [
        { name: 'all', match: { paths: ['/*'] }, upstream: 'echo', plugins: { whoami: {} } },
        { name: 'ws', match: { paths: ['/ws'] }, upstream: 'ws' },
      ],
    };
  };

  before(async () => {
    serverCa = new TestCa('Server CA');
    clientCa = new TestCa('Client CA');
    otherCa = new TestCa('Other CA');
    server = serverCa.issue('gw', { cn: 'gw.test', dns: ['gw.test'] });
    good = clientCa.issue('good', { cn: 'client-good', client: true, uris: ['spiffe://example.org/good'], emails: ['good@example.org'] });
    revoked = clientCa.issue('revoked', { cn: 'client-revoked', client: true });
    foreign = otherCa.issue('foreign', { cn: 'client-foreign', client: true });
    clientCa.revoke(revoked);
    crl = clientCa.crl();
    upstream = await startEchoUpstream();
    wsUpstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wsUpstream, 'listening');
    wsUpstream.on('connection', (socket, req) => {
      wsSeen = req.headers;
      socket.on('message', (data) => socket.send(data));
    });
    gw = await startGateway(document(clientCa.ca), [whoami as never]);
    required = gw.gateway.addresses().get('required')!.port;
    optional = gw.gateway.addresses().get('optional')!.port;
  });
  after(async () => {
    await gw?.close();
    await upstream.close();
    wsUpstream.close();
    for (const ca of [serverCa, clientCa, otherCa]) ca.cleanup();
  });

  it('required: a verified client certificate is proxied with its identity headers and seen by plugins', async () => {
    const reply = await get(required, serverCa.ca, good);
    assert.equal(reply.status, 200);
    const headers = upstreamHeaders(reply);
    assert.equal(headers['x-client-cert-subject'], 'CN=client-good');
    assert.match(headers['x-client-cert-fingerprint']!, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(headers['x-client-cert-sans'], 'URI:spiffe://example.org/good, email:good@example.org');
    assert.match(headers['x-client-cert-serial']!, /^[0-9A-F]+$/);
    assert.equal(decodeURIComponent(headers['x-forwarded-client-cert']!).trim(), good.cert.trim());
    assert.equal(reply.headers['x-plugin-saw'], `CN=client-good|spiffe://example.org/good|good@example.org|${headers['x-client-cert-serial']}`);
  });

  it('required: client-sent identity headers are stripped and replaced by the verified ones', async () => {
    const spoof = { 'x-client-cert-subject': 'CN=admin', 'X-Forwarded-Client-Cert': 'evil', 'x-client-cert-serial': '00' };
    const reply = await get(required, serverCa.ca, good, spoof);
    const headers = (JSON.parse(reply.body) as { rawHeaders: string[] }).rawHeaders;
    const values = (name: string) => headers.filter((_, i) => i % 2 === 1 && headers[i - 1]!.toLowerCase() === name);
    assert.deepEqual(values('x-client-cert-subject'), ['CN=client-good']);
    assert.equal(values('x-forwarded-client-cert').length, 1);
    assert.notEqual(values('x-forwarded-client-cert')[0], 'evil');
    assert.notEqual(values('x-client-cert-serial')[0], '00');
  });

  it('WebSocket upgrades and HTTP/2 requests carry the same verified identity; spoofed headers stripped', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${required}/ws`, {
      ca: serverCa.ca, servername: 'gw.test', cert: good.cert, key: good.key,
      headers: { host: 'gw.test', 'x-client-cert-subject': 'CN=admin', 'x-forwarded-client-cert': 'evil' },
    });
    await once(ws, 'open');
    ws.send('ping');
    const [echoed] = (await once(ws, 'message')) as [Buffer];
    assert.equal(echoed.toString(), 'ping');
    ws.close();
    assert.equal(wsSeen['x-client-cert-subject'], 'CN=client-good');
    assert.equal(decodeURIComponent(String(wsSeen['x-forwarded-client-cert'])).trim(), good.cert.trim());

    const session = http2.connect(`https://127.0.0.1:${required}`, { ca: serverCa.ca, servername: 'gw.test', cert: good.cert, key: good.key });
    try {
      const stream = session.request({ ':path': '/who', ':authority': 'gw.test', 'x-client-cert-subject': 'CN=admin' });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      await once(stream, 'end');
      const headers = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { headers: Record<string, string> }).headers;
      assert.equal(headers['x-client-cert-subject'], 'CN=client-good');
      assert.match(headers['x-client-cert-fingerprint']!, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    } finally {
      session.close();
    }
  });

  it('required: no certificate, a certificate from another CA, or a revoked one fail the handshake', async () => {
    await assert.rejects(get(required, serverCa.ca));
    await assert.rejects(get(required, serverCa.ca, foreign));
    await assert.rejects(get(required, serverCa.ca, revoked));
  });

  it('optional: no certificate or an unverified one → proxied without identity; spoofed headers stripped', async () => {
    for (const client of [undefined, foreign, revoked]) {
      const reply = await get(optional, serverCa.ca, client, { 'x-client-cert-subject': 'CN=admin', 'x-forwarded-client-cert': 'evil' });
      assert.equal(reply.status, 200, reply.body);
      const headers = upstreamHeaders(reply);
      for (const name of Object.values(FORWARD)) assert.equal(headers[name], undefined, `${name} with ${client?.certFile ?? 'no cert'}`);
      assert.equal(reply.headers['x-plugin-saw'], 'none');
    }
    const verified = await get(optional, serverCa.ca, good);
    assert.equal(upstreamHeaders(verified)['x-client-cert-subject'], 'CN=client-good');
  });

  it('a reload swaps the client CA for new handshakes; an invalid CA or CRL is rejected with its path', async () => {
    const bad = await gw.gateway.reload(document('not a pem'));
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.errors.some((e) => e.path === '/listeners/0/tls/clientAuth/ca'), JSON.stringify(bad));
    const badCrl = { ...document(clientCa.ca) };
    (badCrl.listeners[0]!.tls.clientAuth as Record<string, unknown>).crl = 'garbage';
    const rejected = await gw.gateway.reload(badCrl);
    assert.ok(!rejected.ok && rejected.errors.some((e) => e.path === '/listeners/0/tls/clientAuth/crl'), JSON.stringify(rejected));
    assert.equal((await get(required, serverCa.ca, good)).status, 200);

    const swapped = await gw.gateway.reload(document(otherCa.ca, false));
    assert.ok(swapped.ok, JSON.stringify(swapped));
    assert.equal(upstreamHeaders(await get(required, serverCa.ca, foreign))['x-client-cert-subject'], 'CN=client-foreign');
    await assert.rejects(get(required, serverCa.ca, good));
  });
});
