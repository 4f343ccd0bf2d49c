import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runLoad } from './load-generator.ts';
import { startReferenceUpstream, type ReferenceUpstream } from './reference-upstream.ts';
import { findScenario, SCENARIOS } from './scenarios.ts';

// A smoke test: every scenario completes requests with zero errors. No throughput is asserted.
let up: ReferenceUpstream;
before(async () => {
  up = await startReferenceUpstream();
});
after(() => up.close());

for (const s of SCENARIOS) {
  test(`load generator smoke: ${s.name}`, async () => {
    const r = await runLoad({ url: up.url, scenario: s, connections: 4, durationMs: 250, warmupMs: 50 });
    assert.ok(r.requests > 0, 'some requests completed');
    assert.equal(r.errorTotal, 0, r.errorSamples.join('; '));
    assert.equal(r.non2xx, 0);
    assert.ok(r.latencyMs.p50 > 0 && r.latencyMs.p50 <= r.latencyMs.p99);
    // Keep-alive scenarios reuse their connections; the close scenario opens one per request.
    if (s.close) assert.ok(r.connectionsOpened >= r.requests);
    else assert.equal(r.connectionsOpened, 0);
  });
}

test('wrong paths are counted as non-2xx, not as successes', async () => {
  const scenario = { ...findScenario('get-small'), path: '/nope' };
  const r = await runLoad({ url: up.url, scenario, connections: 2, durationMs: 100, warmupMs: 0 });
  assert.equal(r.requests, 0);
  assert.ok(r.non2xx > 0);
});

test('a dead target yields connect errors, bounded in time', async () => {
  const t0 = Date.now();
  // Port 1: privileged and unused, so nothing another test starts can take it meanwhile.
  const r = await runLoad({ url: 'http://127.0.0.1:1', scenario: findScenario('get-small'), connections: 2, durationMs: 200, warmupMs: 0 });
  assert.equal(r.requests, 0);
  assert.ok(r.errors.connect > 0);
  assert.ok(Date.now() - t0 < 2000);
});
