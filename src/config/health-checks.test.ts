import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from './index.ts';

function issues(upstream: Record<string, unknown>) {
  const result = validateConfig(
    {
      listeners: [{ name: 'public', port: 8080 }],
      upstreams: [{ name: 'u', targets: [{ url: 'http://127.0.0.1:1' }], ...upstream }],
      routes: [{ name: 'r', match: { paths: ['/*'] }, upstream: 'u' }],
    },
    { plugins: new Map() },
  );
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('healthCheck / outlierDetection validation', () => {
  it('accepts a full http check, tcp and grpc checks, and outlier settings', () => {
    assert.deepEqual(issues({ healthCheck: { type: 'http', path: '/healthz', expectedStatuses: [200, '300-302'], body: { regex: '^ok' } }, outlierDetection: { consecutive5xx: 3 }, panicThreshold: 0 }), []);
    assert.deepEqual(issues({ healthCheck: { type: 'tcp' } }), []);
    assert.deepEqual(issues({ targets: [{ url: 'h2c://127.0.0.1:1' }], healthCheck: { type: 'grpc', service: 'echo' } }), []);
  });

  it('names the exact path of each mistake', () => {
    assert.deepEqual(issues({ healthCheck: { path: '/x' } }).filter((m) => m.includes('type')).length, 1, 'type is required');
    assert.deepEqual(issues({ healthCheck: { type: 'http', body: { regex: '(' } } }), ['/upstreams/0/healthCheck/body/regex: invalid regular expression: Invalid regular expression: /(/: Unterminated group']);
    assert.deepEqual(issues({ healthCheck: { type: 'http', expectedStatuses: ['399-200'] } }), ['/upstreams/0/healthCheck/expectedStatuses/0: range "399-200" is backwards']);
    assert.match(issues({ targets: [{ url: 'h2c://127.0.0.1:1' }], healthCheck: { type: 'http' } })[0]!, /^\/upstreams\/0\/healthCheck\/type: http checks speak HTTP\/1\.1/);
    assert.match(issues({ outlierDetection: { maxEjectionPercent: 101 } })[0]!, /^\/upstreams\/0\/outlierDetection\/maxEjectionPercent/);
    assert.match(issues({ panicThreshold: -1 })[0]!, /^\/upstreams\/0\/panicThreshold/);
  });
});
