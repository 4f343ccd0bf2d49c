import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../../src/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { hasOpenssl, TestCa, type TestCert } from '../../src/server/test-helpers.ts';
import { parseMetrics, promtoolCheck, promtoolInstalled } from '../helpers/prom.ts';
import { request, startEchoUpstream, type TestServer } from '../helpers/servers.ts';

const TOKENS = { viewer: 'viewer-token-tls', operator: 'operator-token-tls' };

interface Reply {
  status: number;
  fingerprint: string;
  socket: TLSSocket;
}

function get(port: number, ca: string, agent: https.Agent | false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/', servername: 'a.test', ca, agent, headers: { host: 'a.test' } }, (res) => {
      const socket = res.socket as TLSSocket;
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint, socket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Replace a file the way deploy tools do: write aside, rename over (one atomic change). */
function replaceFile(from: string, to: string): void {
  copyFileSync(from, `${to}.tmp`);
  renameSync(`${to}.tmp`, to);
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('certificate files replaced on disk', { skip: !hasOpenssl() && 'openssl CLI not found' }, () => {
  let ca: TestCa;
  let live: TestCert;
  let upstream: TestServer;
  const gateways: Gateway[] = [];

  /** A gateway started from a config file whose certificate is `{ file }` secrets; `watch` turns the file watcher on. */
  async function startFromFile(name: string, watch: boolean): Promise<{ gateway: Gateway; port: number; admin: string }> {
    const configFile = join(ca.dir, `${name}.json`);
    const config = {
      listeners: [
        { name: 'secure', host: '127.0.0.1', port: 0, protocol: 'https', tls: { certificates: [{ name: 'main', cert: { file: live.certFile }, key: { file: live.keyFile } }] } },
      ],
      admin: { host: '127.0.0.1', port: 0, stateDir: join(ca.dir, `${name}-state`), tokens: [{ name: 'v', role: 'viewer', token: TOKENS.viewer }, { name: 'o', role: 'operator', token: TOKENS.operator }] },
      upstreams: [{ name: 'echo', targets: [{ url: upstream.url }] }],
      routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'echo' }],
    };
    writeFileSync(configFile, JSON.stringify(config));
    const { readFile } = await import('node:fs/promises');
    const gateway = await createGateway(config, {
      logger: createLogger({ level: 'silent' }),
      accessLogSink: { write() {} },
      baseDir: ca.dir,
      readConfigFile: async () => JSON.parse(await readFile(configFile, 'utf8')) as unknown,
      ...(watch ? { watchFiles: [configFile] } : {}),
    });
    gateways.push(gateway);
    await gateway.start();
    return { gateway, port: gateway.addresses().get('secure')!.port, admin: `http://127.0.0.1:${gateway.adminAddress()!.port}` };
  }

  before(async () => {
    ca = new TestCa();
    live = ca.issue('live', { cn: 'a.test', dns: ['a.test'] });
    upstream = await startEchoUpstream();
  });
  after(async () => {
    for (const g of gateways) await g.stop({ deadlineMs: 1000 });
    await upstream.close();
    ca.cleanup();
  });

  it('new handshakes get the new certificate without restart; open connections keep working; none dropped', async () => {
    const { port, admin } = await startFromFile('watched', true);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const failures: unknown[] = [];
    let stop = false;
    let served = 0;
    // Steady traffic on fresh connections while the files change underneath.
    const traffic = (async () => {
      while (!stop) {
        try {
          assert.equal((await get(port, ca.ca, false)).status, 200);
          served++;
        } catch (error) {
          failures.push(error);
        }
      }
    })();
    try {
      const first = await get(port, ca.ca, agent);
      const old = first.fingerprint;
      assert.equal(old, fingerprintOf(live.cert));
      const renewed = ca.issue('renewed', { cn: 'a.test', dns: ['a.test'] });
      replaceFile(renewed.keyFile, live.keyFile);
      replaceFile(renewed.certFile, live.certFile);
      const fresh = await until('the renewed certificate', () => get(port, ca.ca, false), (r) => r.fingerprint === fingerprintOf(renewed.cert));
      assert.equal(fresh.status, 200);
      // The connection opened before the change still serves, with the certificate it started with.
      const again = await get(port, ca.ca, agent);
      assert.equal(again.status, 200);
      assert.equal(again.socket, first.socket);
      assert.equal(again.fingerprint, old);

      // The admin view and the expiry gauge follow the applied config.
      const view = await request(`${admin}/admin/certificates`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
      assert.equal(view.status, 200);
      assert.doesNotMatch(view.body, /PRIVATE KEY|BEGIN/);
      const body = JSON.parse(view.body) as { listeners: Array<{ listener: string; certificates: Array<Record<string, unknown>> }> };
      const cert = body.listeners.find((l) => l.listener === 'secure')!.certificates[0]!;
      const x509 = new X509Certificate(renewed.cert);
      assert.equal(cert.name, 'main');
      assert.equal(cert.fingerprint256, x509.fingerprint256);
      assert.equal(cert.isDefault, true);
      assert.deepEqual(cert.serverNames, ['a.test']);
      assert.equal(cert.subject, 'CN=a.test');
      assert.equal(cert.issuer, 'CN=Sluice Test CA');
      assert.deepEqual(cert.sans, { dns: ['a.test'], uri: [], email: [], ip: [] });
      assert.equal(cert.notAfter, new Date(x509.validTo).toISOString());
      assert.ok(typeof cert.daysRemaining === 'number' && cert.daysRemaining > 1 && cert.daysRemaining <= 2, String(cert.daysRemaining));
      const text = (await request(`${admin}/metrics`)).body;
      const metrics = parseMetrics(text);
      assert.equal(metrics.get('sluice_tls_certificate_expiry_timestamp_seconds{listener="secure",certificate="main"}'), Math.floor(new Date(x509.validTo).getTime() / 1000));
      assert.equal(metrics.get('sluice_tls_certificate_not_before_timestamp_seconds{listener="secure",certificate="main"}'), Math.floor(new Date(x509.validFrom).getTime() / 1000));
      if (promtoolInstalled) assert.equal(promtoolCheck(text), '');
    } finally {
      stop = true;
      await traffic;
      agent.destroy();
    }
    assert.deepEqual(failures, []);
    assert.ok(served > 0);
  });

  it('POST /admin/config/reload re-reads the certificate files', async () => {
    const { port, admin } = await startFromFile('manual', false);
    const before = (await get(port, ca.ca, false)).fingerprint;
    const next = ca.issue('next', { cn: 'a.test', dns: ['a.test'] });
    replaceFile(next.keyFile, live.keyFile);
    replaceFile(next.certFile, live.certFile);
    // No watcher on this gateway: the old certificate stays until asked.
    assert.equal((await get(port, ca.ca, false)).fingerprint, before);
    const reload = await request(`${admin}/admin/config/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.operator}` } });
    assert.equal(reload.status, 200, reload.body);
    assert.equal((await get(port, ca.ca, false)).fingerprint, fingerprintOf(next.cert));
  });
});
