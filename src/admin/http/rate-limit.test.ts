import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from './rate-limit.ts';
import { bearer, jsonOf, startAdmin } from './test-helpers.ts';
import { defineAdminRoute } from './types.ts';

describe('RateLimiter', () => {
  it('allows a minute of burst, then refills continuously', () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) assert.equal(limiter.take('a').allowed, true);
    const denied = limiter.take('a');
    assert.deepEqual(denied, { allowed: false, retryAfterSeconds: 1, firstDenial: true });
    assert.equal((limiter.take('a') as { firstDenial: boolean }).firstDenial, false);
    assert.equal(limiter.take('b').allowed, true, 'buckets are per client');
    now += 1000;
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, false);
  });

  it('reports the wait until the next token', () => {
    let now = 0;
    const limiter = new RateLimiter(2, () => now);
    limiter.take('a');
    limiter.take('a');
    assert.equal((limiter.take('a') as { retryAfterSeconds: number }).retryAfterSeconds, 30);
    now += 61_000;
    assert.equal(limiter.take('a').allowed, true);
  });
});

describe('admin rate limit over HTTP', () => {
  it('answers 429 with Retry-After, audits the first denial only, and spares public routes', async () => {
    const route = defineAdminRoute({ method: 'GET', path: '/admin/x', role: 'viewer', summary: 'x', handler: () => ({ body: {} }) });
    const t = await startAdmin([route], { tokens: [{ name: 'v', role: 'viewer', token: 'tok' }] }, {
      rateLimitPerMinute: 3,
      publicRoutes: [{ path: '/healthz', handler: (_req, res) => void res.end('ok') }],
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${t.base}/admin/x`, { headers: bearer('tok') })).status, 200);
      const limited = await fetch(`${t.base}/admin/x`, { headers: bearer('tok') });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '20');
      assert.equal((await jsonOf(limited)).code, 'SLUICE_ERR_ADMIN_RATE_LIMITED');
      // Before authentication: an unauthenticated flood is limited too.
      assert.equal((await fetch(`${t.base}/admin/x`)).status, 429);
      assert.equal((await fetch(`${t.base}/healthz`)).status, 200);
      assert.equal(t.audit.length, 1);
      assert.equal(t.audit[0]!.outcome, 'denied');
      assert.equal(t.audit[0]!.status, 429);
    } finally {
      await t.close();
    }
  });
});
