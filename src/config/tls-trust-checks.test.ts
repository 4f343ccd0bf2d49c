import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hasOpenssl, TestCa } from '../server/test-helpers.ts';
import type { ConfigIssue } from './issues.ts';
import type { SluiceConfig } from './schema/index.ts';
import { caBundleIssues, crlIssues, trustIssues, trustShapeIssues } from './tls-trust-checks.ts';

describe('TLS trust checks', { skip: !hasOpenssl() && 'openssl CLI not found' }, () => {
  let ca: TestCa;
  before(() => {
    ca = new TestCa();
  });
  after(() => ca.cleanup());

  it('accepts a CA bundle and a CRL; names the path of a bad one', () => {
    const issues: ConfigIssue[] = [];
    caBundleIssues(ca.ca, '/x/ca', Date.now(), issues);
    crlIssues(ca.crl(), ca.ca, '/x/crl', issues);
    assert.equal(issues.length, 0);
    caBundleIssues('hello', '/x/ca', Date.now(), issues);
    crlIssues(ca.ca, ca.ca, '/x/crl', issues);
    assert.deepEqual(issues.map((i) => i.path), ['/x/ca', '/x/crl']);
    assert.match(issues[0]!.message, /not a PEM CA bundle/);
    assert.match(issues[1]!.message, /not a PEM CRL/);
  });

  it('reports an expired CA with its path', () => {
    const issues: ConfigIssue[] = [];
    caBundleIssues(ca.ca, '/x/ca', Date.now() + 10 * 86_400_000, issues);
    assert.match(issues[0]?.message ?? '', /expired/);
  });

  it('checks listener clientAuth and upstream tls material by path', () => {
    const leaf = ca.issue('leaf', { cn: 'client', client: true });
    const other = ca.issue('other', { cn: 'other', client: true });
    const config = {
      listeners: [{ name: 'l', port: 0, protocol: 'https', tls: { certificates: [], clientAuth: { mode: 'required', ca: 'nope', crl: 'nope' } } }],
      upstreams: [{ name: 'u', targets: [], tls: { ca: ca.ca, cert: leaf.cert, key: other.key } }],
    } as unknown as SluiceConfig;
    assert.deepEqual(trustIssues(config, Date.now()).map((i) => i.path), ['/listeners/0/tls/clientAuth/ca', '/listeners/0/tls/clientAuth/crl', '/upstreams/0/tls/key']);
  });

  it('an upstream client certificate needs its key and the reverse', () => {
    assert.deepEqual(trustShapeIssues({ upstreams: [{ tls: { cert: 'c' } }, { tls: { key: 'k' } }] }).map((i) => i.path), ['/upstreams/0/tls/key', '/upstreams/1/tls/cert']);
  });
});
