import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { hasOpenssl, TestCa, type TestCert } from '../../src/server/test-helpers.ts';
import { request, startGateway, type TestGateway } from '../helpers/servers.ts';

interface TlsUpstream {
  url: string;
  /** SNI name and client certificate CN of each request, in order. */
  seen: Array<{ servername: string | false; clientCn: string | undefined }>;
  close(): Promise<void>;
}

/** A real https upstream with a certificate from a private CA; `clientCa` makes it require client certificates. */
async function startTlsUpstream(cert: TestCert, clientCa?: string): Promise<TlsUpstream> {
  const seen: TlsUpstream['seen'] = [];
  const server = https.createServer(
    { cert: cert.cert, key: cert.key, ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: true }) },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = clientCa === undefined ? undefined : socket.getPeerCertificate();
      seen.push({ servername: socket.servername, clientCn: peer?.subject?.CN });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('secure hello');
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const code = (body: string): string => (JSON.parse(body) as { code: string }).code;

for (const client of ['native', 'undici'] as const) {
  describe(`upstream TLS (${client} client)`, { skip: !hasOpenssl() && 'openssl CLI not found' }, () => {
    let ca: TestCa;
    let clientCa: TestCa;
    let serverCert: TestCert;
    let clientCert: TestCert;
    let plain: TlsUpstream;
    let mutual: TlsUpstream;
    let gw: TestGateway;

    const document = (tls: { plain?: Record<string, unknown>; mutual?: Record<string, unknown> }) => ({
      listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
      admin: { enabled: false },
      upstreams: [
        { name: 'plain', targets: [{ url: plain.url }], pool: { client }, ...(tls.plain === undefined ? {} : { tls: tls.plain }) },
        { name: 'mutual', targets: [{ url: mutual.url }], pool: { client }, ...(tls.mutual === undefined ? {} : { tls: tls.mutual }) },
      ],
      routes: [
        { name: 'plain', match: { paths: ['/plain'] }, upstream: 'plain' },
        { name: 'mutual', match: { paths: ['/mutual'] }, upstream: 'mutual' },
      ],
    });

    before(async () => {
      ca = new TestCa('Upstream CA');
      clientCa = new TestCa('Gateway Client CA');
      serverCert = ca.issue('upstream', { cn: 'upstream.test', dns: ['upstream.test'] });
      clientCert = clientCa.issue('gateway', { cn: 'sluice-gateway', client: true });
      plain = await startTlsUpstream(serverCert);
      mutual = await startTlsUpstream(serverCert, clientCa.ca);
      gw = await startGateway(document({ plain: { servername: 'upstream.test' }, mutual: { servername: 'upstream.test', ca: ca.ca } }));
    });
    after(async () => {
      await gw?.close();
      await plain.close();
      await mutual.close();
      ca.cleanup();
      clientCa.cleanup();
    });

    it('an untrusted upstream certificate (private CA, no `ca`) → 502 SLUICE_ERR_UPSTREAM_TLS', async () => {
      const res = await request(`${gw.url}/plain`);
      assert.equal(res.status, 502);
      assert.equal(code(res.body), 'SLUICE_ERR_UPSTREAM_TLS');
      assert.equal(plain.seen.length, 0);
    });

    it('with `ca` (a reload: new pool) the request succeeds and the configured SNI name is sent', async () => {
      const outcome = await gw.gateway.reload(document({ plain: { servername: 'upstream.test', ca: { file: ca.caFile } }, mutual: { servername: 'upstream.test', ca: ca.ca } }));
      assert.ok(outcome.ok, JSON.stringify(outcome));
      const res = await request(`${gw.url}/plain`);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.body, 'secure hello');
      assert.equal(plain.seen.at(-1)?.servername, 'upstream.test');
      // The client's Host header (preserved upstream) does not change the SNI name.
      const named = await request(`${gw.url}/plain`, { headers: { host: 'public.example.com' } });
      assert.equal(named.status, 200, named.body);
      assert.equal(plain.seen.at(-1)?.servername, 'upstream.test');
    });

    it('the certificate name is checked against servername', async () => {
      const outcome = await gw.gateway.reload(document({ plain: { servername: 'other.test', ca: ca.ca }, mutual: { servername: 'upstream.test', ca: ca.ca } }));
      assert.ok(outcome.ok, JSON.stringify(outcome));
      const res = await request(`${gw.url}/plain`);
      assert.equal(res.status, 502);
      assert.equal(code(res.body), 'SLUICE_ERR_UPSTREAM_TLS');
    });

    it('an upstream requiring a client certificate: fails without cert/key, succeeds with them', async () => {
      const without = await request(`${gw.url}/mutual`);
      assert.equal(without.status, 502, without.body);
      // TLS 1.3 refuses the missing certificate with an alert after the client's handshake is done.
      assert.equal(code(without.body), 'SLUICE_ERR_UPSTREAM_TLS');
      assert.equal(mutual.seen.length, 0);
      const outcome = await gw.gateway.reload(
        document({ plain: { servername: 'upstream.test', ca: ca.ca }, mutual: { servername: 'upstream.test', ca: ca.ca, cert: { file: clientCert.certFile }, key: { file: clientCert.keyFile } } }),
      );
      assert.ok(outcome.ok, JSON.stringify(outcome));
      const res = await request(`${gw.url}/mutual`);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(mutual.seen.at(-1), { servername: 'upstream.test', clientCn: 'sluice-gateway' });
    });

    it('rejects an invalid CA, a key not matching the client certificate, or a cert without key, with paths', async () => {
      const bad = await gw.gateway.reload(
        document({ plain: { ca: 'nope' }, mutual: { ca: ca.ca, cert: clientCert.cert, key: serverCert.key } }),
      );
      assert.equal(bad.ok, false);
      const paths = bad.ok ? [] : bad.errors.map((e) => e.path);
      assert.ok(paths.includes('/upstreams/0/tls/ca'), JSON.stringify(bad));
      assert.ok(paths.includes('/upstreams/1/tls/key'), JSON.stringify(bad));
      const shape = await gw.gateway.reload(document({ mutual: { cert: clientCert.cert } }));
      assert.ok(!shape.ok && shape.errors.some((e) => e.path === '/upstreams/1/tls/key'), JSON.stringify(shape));
    });
  });
}
