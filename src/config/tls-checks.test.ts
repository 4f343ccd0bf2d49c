import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hasOpenssl, TestCa, type TestCert } from '../server/test-helpers.ts';
import type { SluiceConfig } from './schema/index.ts';
import { serverNameProblem, tlsCertificateIssues } from './tls-checks.ts';
import { applyDefaults, validateConfig } from './validate.ts';
import { ConfigSchema } from './schema/index.ts';

const PEM = 'x';
const options = { plugins: new Map() };

function errorsOf(listener: Record<string, unknown>) {
  const result = validateConfig({ listeners: [{ name: 'l', port: 0, ...listener }] }, options);
  return result.ok ? [] : result.errors;
}

describe('listener tls: schema and shape', () => {
  it('requires tls for https and rejects it for http, at /listeners/N/tls', () => {
    assert.deepEqual(errorsOf({ protocol: 'https' }), [{ path: '/listeners/0/tls', message: 'missing required property "tls" (needed when protocol is "https")' }]);
    assert.deepEqual(errorsOf({ tls: { certificates: [{ cert: PEM, key: PEM }] } }), [
      { path: '/listeners/0/tls', message: 'tls is only used when protocol is "https" (protocol is "http")' },
    ]);
  });

  it('applies the tls defaults and accepts file secrets', () => {
    const result = validateConfig({ listeners: [{ name: 'l', port: 0, protocol: 'https', tls: { certificates: [{ cert: { file: 'c.pem' }, key: { file: 'k.pem' } }] } }] }, options);
    assert.ok(result.ok);
    const tls = result.config.listeners[0]!.tls!;
    assert.equal(tls.minVersion, 'TLSv1.2');
    assert.equal(tls.handshakeTimeout, '10s');
  });

  it('reports malformed server names, duplicate names, an unknown default and bad ciphers with their paths', () => {
    const errors = errorsOf({
      protocol: 'https',
      tls: {
        certificates: [
          { name: 'main', cert: PEM, key: PEM, serverNames: ['api.example.com', 'a.*.example.com', '*.com', 'bad_name.example.com'] },
          { name: 'main', cert: PEM, key: PEM },
        ],
        defaultCertificate: 'mian',
        ciphers: 'NOT-A-CIPHER',
        minVersion: 'TLSv1.1',
      },
    });
    const paths = errors.map((e) => e.path);
    assert.ok(paths.includes('/listeners/0/tls/certificates/0/serverNames/1'), paths.join());
    assert.ok(paths.includes('/listeners/0/tls/certificates/0/serverNames/2'));
    assert.ok(paths.includes('/listeners/0/tls/certificates/0/serverNames/3'));
    assert.ok(!paths.includes('/listeners/0/tls/certificates/0/serverNames/0'));
    assert.ok(errors.some((e) => e.path === '/listeners/0/tls/certificates/1/name' && /duplicate certificate name "main"/.test(e.message)));
    assert.ok(errors.some((e) => e.path === '/listeners/0/tls/defaultCertificate' && /unknown certificate "mian" \(did you mean "main"\?\)/.test(e.message)));
    assert.ok(errors.some((e) => e.path === '/listeners/0/tls/ciphers' && /invalid cipher list/.test(e.message)));
    assert.ok(paths.includes('/listeners/0/tls/minVersion'));
  });

  it('accepts exact and one-label wildcard names only', () => {
    assert.equal(serverNameProblem('api.example.com'), undefined);
    assert.equal(serverNameProblem('API.Example.com'), undefined);
    assert.equal(serverNameProblem('*.example.com'), undefined);
    assert.equal(serverNameProblem('localhost'), undefined);
    assert.match(serverNameProblem('*.com')!, /at least two labels/);
    assert.match(serverNameProblem('api.*.com')!, /whole first label/);
    assert.match(serverNameProblem('*')!, /invalid server name/);
    assert.match(serverNameProblem('-x.example.com')!, /invalid server name/);
    assert.match(serverNameProblem('a..b')!, /invalid server name/);
  });
});

describe('listener tls: certificate checks', { skip: !hasOpenssl() && 'openssl CLI not found' }, () => {
  let ca: TestCa;
  let a: TestCert;
  let b: TestCert;
  let expired: TestCert;
  let future: TestCert;

  before(() => {
    ca = new TestCa();
    a = ca.issue('a', { cn: 'a.test', dns: ['a.test', 'www.a.test'] });
    b = ca.issue('b', { cn: 'b.test', dns: ['*.b.test'] });
    expired = ca.issue('expired', { cn: 'expired.test', dns: ['expired.test'], startDate: '20200101000000Z', endDate: '20200102000000Z' });
    future = ca.issue('future', { cn: 'future.test', dns: ['future.test'], startDate: '20990101000000Z', endDate: '20990102000000Z' });
  });
  after(() => ca.cleanup());

  const config = (certificates: unknown[]): SluiceConfig =>
    applyDefaults(ConfigSchema, { listeners: [{ name: 'l', port: 0, protocol: 'https', tls: { certificates } }] }) as SluiceConfig;

  it('accepts matching certificates and keys', () => {
    assert.deepEqual(tlsCertificateIssues(config([{ cert: a.cert, key: a.key }, { cert: b.cert, key: b.key }])), []);
  });

  it('rejects a key that does not match its certificate, at the key path', () => {
    const issues = tlsCertificateIssues(config([{ cert: a.cert, key: a.key }, { cert: b.cert, key: a.key }]));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.path, '/listeners/0/tls/certificates/1/key');
    assert.match(issues[0]!.message, /private key does not match the certificate \(CN=b\.test\)/);
  });

  it('rejects what is not PEM', () => {
    const issues = tlsCertificateIssues(config([{ cert: 'nope', key: a.key }, { cert: a.cert, key: 'nope' }]));
    assert.deepEqual(issues.map((i) => i.path), ['/listeners/0/tls/certificates/0/cert', '/listeners/0/tls/certificates/1/key']);
    assert.match(issues[0]!.message, /not a PEM certificate/);
    assert.match(issues[1]!.message, /not a PEM private key/);
  });

  it('rejects an expired certificate naming the date, and one not yet valid', () => {
    const issues = tlsCertificateIssues(config([{ cert: expired.cert, key: expired.key }, { cert: future.cert, key: future.key }]));
    assert.deepEqual(issues, [
      { path: '/listeners/0/tls/certificates/0/cert', message: 'certificate expired on 2020-01-02T00:00:00Z (CN=expired.test)' },
      { path: '/listeners/0/tls/certificates/1/cert', message: 'certificate is not valid before 2099-01-01T00:00:00Z (CN=future.test)' },
    ]);
  });

  it('checks validity at the given time', () => {
    const later = Date.now() + 10 * 86_400_000;
    const issues = tlsCertificateIssues(config([{ cert: a.cert, key: a.key }]), later);
    assert.equal(issues.length, 1);
    assert.match(issues[0]!.message, /^certificate expired on \d{4}-\d\d-\d\dT/);
  });

  it('rejects two certificates claiming the same name, explicit or from SANs', () => {
    const explicit = tlsCertificateIssues(config([{ cert: a.cert, key: a.key, serverNames: ['x.test'] }, { cert: b.cert, key: b.key, serverNames: ['*.b.test', 'X.test'] }]));
    assert.deepEqual(explicit, [{ path: '/listeners/0/tls/certificates/1/serverNames/1', message: 'server name "x.test" is already claimed by /listeners/0/tls/certificates/0' }]);
    const derived = tlsCertificateIssues(config([{ cert: a.cert, key: a.key }, { cert: a.cert, key: a.key }]));
    assert.equal(derived[0]!.path, '/listeners/0/tls/certificates/1/cert');
    assert.match(derived[0]!.message, /"a\.test" \(from the certificate's subject alternative names\) is already claimed/);
  });
});
