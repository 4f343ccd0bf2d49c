import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { AdminAuthenticator, roleAllows } from './auth.ts';
import { bearer, jsonOf, startAdmin, type TestAdmin } from './test-helpers.ts';
import { defineAdminRoute } from './types.ts';

const SECRET = 'an-hmac-secret-of-decent-length-0123456789';
const routes = [
  defineAdminRoute({ method: 'GET', path: '/admin/whoami', role: 'viewer', summary: 'who', handler: (ctx) => ({ body: ctx.principal }) }),
  defineAdminRoute({ method: 'PUT', path: '/admin/config', role: 'admin', summary: 'write', handler: () => ({ status: 204 }) }),
];

function sign(claims: JWTPayload, key: CryptoKey | Uint8Array, alg: string, exp: string | number = '5m'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).setSubject('alice').setIssuedAt().setExpirationTime(exp).sign(key);
}

const hmac = new TextEncoder().encode(SECRET);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('JWT with an HMAC secret (HS256)', () => {
  let t: TestAdmin;
  before(async () => {
    t = await startAdmin(routes, {
      tokens: [{ name: 'static', role: 'viewer', token: 'plain-static-token' }],
      jwt: { secret: SECRET, issuer: 'https://login.example', audience: 'sluice-admin' },
    });
  });
  after(() => t.close());
  const good = { role: 'admin', iss: 'https://login.example', aud: 'sluice-admin' };

  it('accepts a valid token; the principal is the subject with the claimed role', async () => {
    const response = await fetch(`${t.base}/admin/whoami`, { headers: bearer(await sign(good, hmac, 'HS256')) });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { name: 'alice', role: 'admin', via: 'jwt' });
  });

  it('still accepts static tokens alongside', async () => {
    const response = await fetch(`${t.base}/admin/whoami`, { headers: bearer('plain-static-token') });
    assert.deepEqual(await response.json(), { name: 'static', role: 'viewer', via: 'token' });
  });

  it('401 for an expired token, a wrong audience or issuer, a missing exp, or a bad signature', async () => {
    const cases: Array<[string, string]> = [
      ['expired', await sign(good, hmac, 'HS256', Math.floor(Date.now() / 1000) - 60)],
      ['audience', await sign({ ...good, aud: 'someone-else' }, hmac, 'HS256')],
      ['issuer', await sign({ ...good, iss: 'https://evil.example' }, hmac, 'HS256')],
      ['no exp', await new SignJWT(good).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(hmac)],
      ['signature', await sign(good, new TextEncoder().encode('another-secret-of-some-length-000000'), 'HS256')],
    ];
    for (const [why, token] of cases) {
      const response = await fetch(`${t.base}/admin/whoami`, { headers: bearer(token) });
      assert.equal(response.status, 401, why);
      assert.match(response.headers.get('www-authenticate') ?? '', /invalid_token/, why);
    }
    const expired = await fetch(`${t.base}/admin/whoami`, { headers: bearer(cases[0]![1]) });
    assert.equal((await jsonOf(expired)).detail, 'token expired');
  });

  it('never accepts alg "none"', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...good, sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    const response = await fetch(`${t.base}/admin/whoami`, { headers: bearer(unsigned) });
    assert.equal(response.status, 401);
  });

  it('403 (not 401) for an authentic token without a valid role claim, audited with the subject', async () => {
    for (const claims of [{ iss: good.iss, aud: good.aud }, { ...good, role: 'superuser' }]) {
      const response = await fetch(`${t.base}/admin/config`, { method: 'PUT', headers: bearer(await sign(claims, hmac, 'HS256')) });
      assert.equal(response.status, 403);
      assert.equal((await jsonOf(response)).detail, 'token carries no valid role claim');
    }
    const last = t.audit.at(-1)!;
    assert.equal(last.actor, 'alice');
    assert.equal(last.role, 'none');
    assert.equal(last.outcome, 'denied');
  });

  it('403 for a role below the route', async () => {
    const response = await fetch(`${t.base}/admin/config`, { method: 'PUT', headers: bearer(await sign({ ...good, role: 'operator' }, hmac, 'HS256')) });
    assert.equal(response.status, 403);
  });
});

describe('JWT with a public key', () => {
  it('ES256: accepts valid tokens; rejects HS256 signed with the PEM (alg confusion) and other curves', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const t = await startAdmin(routes, { jwt: { publicKey: pem, roleClaim: 'sluice_role' } });
    try {
      const ok = await fetch(`${t.base}/admin/whoami`, { headers: bearer(await sign({ sluice_role: 'viewer' }, privateKey, 'ES256')) });
      assert.deepEqual(await ok.json(), { name: 'alice', role: 'viewer', via: 'jwt' });
      const confused = await sign({ sluice_role: 'admin' }, new TextEncoder().encode(pem), 'HS256');
      assert.equal((await fetch(`${t.base}/admin/whoami`, { headers: bearer(confused) })).status, 401);
      const other = await generateKeyPair('ES384');
      const wrongCurve = await sign({ sluice_role: 'admin' }, other.privateKey, 'ES384');
      assert.equal((await fetch(`${t.base}/admin/whoami`, { headers: bearer(wrongCurve) })).status, 401);
      const stranger = await generateKeyPair('ES256');
      const wrongKey = await sign({ sluice_role: 'admin' }, stranger.privateKey, 'ES256');
      assert.equal((await fetch(`${t.base}/admin/whoami`, { headers: bearer(wrongKey) })).status, 401);
    } finally {
      await t.close();
    }
  });

  it('RS256 and EdDSA keys verify their own algorithms', async () => {
    for (const alg of ['RS256', 'EdDSA']) {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const authenticator = new AdminAuthenticator({ jwt: { publicKey: await exportSPKI(publicKey) } });
      const result = await authenticator.authenticate(`Bearer ${await sign({ role: 'operator' }, privateKey, alg)}`);
      assert.deepEqual(result, { ok: true, principal: { name: 'alice', role: 'operator', via: 'jwt' } }, alg);
    }
  });
});

describe('AdminAuthenticator', () => {
  it('rejects unusable configs', () => {
    assert.throws(() => new AdminAuthenticator({ jwt: { issuer: 'x' } }), /needs "secret" or "publicKey"/);
    assert.equal(new AdminAuthenticator({ jwt: { roleClaim: 'role' } }).configured, false, 'defaults alone do not enable JWT');
    assert.throws(() => new AdminAuthenticator({ tokens: [{ name: 'x', role: 'admin' }] }), /needs "token" or a 64-hex "sha256"/);
    assert.throws(() => new AdminAuthenticator({ jwt: { secret: { file: '/run/secret' } } }), /unresolved secret/);
  });

  it('parses the Authorization header strictly', async () => {
    const authenticator = new AdminAuthenticator({ tokens: [{ name: 'a', role: 'viewer', token: 'tok' }] });
    assert.equal((await authenticator.authenticate('bearer tok')).ok, true);
    for (const header of [undefined, '', 'Basic dG9r', 'Bearer', 'Bearer tok extra', 'tok']) {
      assert.equal((await authenticator.authenticate(header)).ok, false, String(header));
    }
  });

  it('orders roles viewer < operator < admin', () => {
    assert.ok(roleAllows('admin', 'viewer') && roleAllows('operator', 'operator'));
    assert.ok(!roleAllows('viewer', 'operator') && !roleAllows('operator', 'admin'));
  });
});
