import assert from 'node:assert/strict';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { hasOpenssl, TestCa, type TestCert } from './test-helpers.ts';
import type { PipelineHost } from '../runtime/pipeline.ts';
import { PublicListener } from './listener.ts';
import { SniContexts } from './tls-contexts.ts';

const pick = (o: { requestCert: boolean; rejectUnauthorized: boolean; ca?: unknown }) => ({ requestCert: o.requestCert, rejectUnauthorized: o.rejectUnauthorized, ca: o.ca });

describe('SNI certificate choice', { skip: !hasOpenssl() && 'openssl CLI not found' }, () => {
  let ca: TestCa;
  let a: TestCert;
  let b: TestCert;
  let d: TestCert;

  before(() => {
    ca = new TestCa();
    a = ca.issue('a', { cn: 'a.test', dns: ['a.test'] });
    b = ca.issue('b', { cn: 'wild.b.test', dns: ['*.b.test'] });
    d = ca.issue('d', { cn: 'default.test', dns: ['default.test'] });
  });
  after(() => ca.cleanup());

  it('carries the client-certificate policy: none, required, optional', () => {
    const certificates = [{ name: 'a', cert: a.cert, key: a.key }];
    assert.deepEqual(pick(new SniContexts({ certificates }).defaultOptions()), { requestCert: false, rejectUnauthorized: true, ca: undefined });
    assert.deepEqual(pick(new SniContexts({ certificates, clientAuth: { mode: 'required', ca: ca.ca } }).defaultOptions()), { requestCert: true, rejectUnauthorized: true, ca: ca.ca });
    assert.deepEqual(pick(new SniContexts({ certificates, clientAuth: { mode: 'optional', ca: ca.ca } }).defaultOptions()), { requestCert: true, rejectUnauthorized: false, ca: ca.ca });
  });

  it('picks exact, then one-label wildcard, then the default', () => {
    const sni = new SniContexts({
      certificates: [
        { name: 'a', cert: a.cert, key: a.key },
        { name: 'b', cert: b.cert, key: b.key },
        { name: 'fallback', cert: d.cert, key: d.key },
      ],
      defaultCertificate: 'fallback',
    });
    assert.equal(sni.nameFor('a.test'), 'a');
    assert.equal(sni.nameFor('A.TEST.'), 'a');
    assert.equal(sni.nameFor('x.b.test'), 'b');
    assert.equal(sni.nameFor('y.x.b.test'), 'fallback');
    assert.equal(sni.nameFor('b.test'), 'fallback');
    assert.equal(sni.nameFor('other.test'), 'fallback');
    assert.equal(sni.nameFor(undefined), 'fallback');
  });

  it('uses serverNames over SANs, names certificates by index, and defaults to the first', () => {
    const sni = new SniContexts({ certificates: [{ cert: a.cert, key: a.key }, { cert: d.cert, key: d.key, serverNames: ['*.d.test'] }] });
    assert.equal(sni.nameFor('x.d.test'), 'cert-1');
    assert.equal(sni.nameFor('default.test'), 'cert-0');
    const info = sni.certificates();
    assert.deepEqual(info.map((c) => [c.name, c.serverNames, c.isDefault]), [
      ['cert-0', ['a.test'], true],
      ['cert-1', ['*.d.test'], false],
    ]);
    assert.equal(info[0]!.subject, 'CN=a.test');
    assert.equal(info[0]!.issuer, 'CN=Sluice Test CA');
    assert.match(info[0]!.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.ok(Date.parse(info[0]!.validTo) > Date.now());
    assert.equal(new Date(info[0]!.validFrom).toISOString(), info[0]!.validFrom);
  });

  it('a listener reports its certificates and swaps them on update', async () => {
    const listener = await PublicListener.start(
      { name: 'l', host: '127.0.0.1', port: 0, protocol: 'https', tls: { certificates: [{ cert: a.cert, key: a.key }] } },
      {} as PipelineHost,
    );
    try {
      assert.equal(listener.runtime.scheme, 'https');
      assert.deepEqual(listener.certificates().map((c) => c.subject), ['CN=a.test']);
      const port = listener.address().port;
      const connect = (servername: string | undefined, maxVersion: tls.SecureVersion = 'TLSv1.3') =>
        new Promise<string>((resolve, reject) => {
          const options = { port, host: '127.0.0.1', ca: ca.ca, maxVersion, checkServerIdentity: () => undefined };
          const socket = tls.connect({ ...options, ...(servername === undefined ? {} : { servername }) }, () => {
            resolve(String(socket.getPeerCertificate().subject.CN));
            socket.end();
          });
          socket.on('error', reject);
        });
      assert.equal(await connect(undefined), 'a.test'); // no SNI: the server's own (default) context
      listener.update({ name: 'l', host: '127.0.0.1', port: 0, protocol: 'https', tls: { certificates: [{ name: 'd', cert: d.cert, key: d.key }], handshakeTimeout: '3s' } });
      assert.deepEqual(listener.certificates().map((c) => [c.name, c.subject, c.serverNames]), [['d', 'CN=default.test', ['default.test']]]);
      assert.equal(await connect('a.test'), 'default.test');
      assert.equal(await connect(undefined, 'TLSv1.2'), 'default.test');
      listener.update({ name: 'l', host: '127.0.0.1', port: 0, protocol: 'https', tls: { certificates: [{ name: 'd', cert: d.cert, key: d.key }], minVersion: 'TLSv1.3' } });
      await assert.rejects(connect('default.test', 'TLSv1.2'));
      await assert.rejects(connect(undefined, 'TLSv1.2'));
      assert.equal(await connect('default.test'), 'default.test');
    } finally {
      await listener.close(100);
    }
  });

  it('a plain http listener has no certificates', async () => {
    const listener = await PublicListener.start({ name: 'l', host: '127.0.0.1', port: 0 }, {} as PipelineHost);
    try {
      assert.equal(listener.runtime.scheme, 'http');
      assert.deepEqual(listener.certificates(), []);
    } finally {
      await listener.close(100);
    }
  });
});
