import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../config/validate.ts';
import { builtinPlugins } from '../plugins/builtin/index.ts';
import { proxyConfig } from './proxy-config.ts';

const base = { listen: 8080, host: '127.0.0.1', admin: undefined, accessLog: false };

describe('proxyConfig', () => {
  it('--to h2c://… makes an HTTP/2 upstream that validates', () => {
    const config = proxyConfig({ ...base, to: ['h2c://127.0.0.1:50051', 'h2c://127.0.0.1:50052'] });
    const upstream = (config.upstreams as Record<string, unknown>[])[0]!;
    assert.equal(upstream.protocol, 'http2');
    assert.deepEqual(upstream.targets, [{ url: 'h2c://127.0.0.1:50051' }, { url: 'h2c://127.0.0.1:50052' }]);
    const result = validateConfig(config, { plugins: new Map(builtinPlugins.map((p) => [p.name, p])) });
    assert.ok(result.ok, JSON.stringify(result));
  });
  it('http targets stay HTTP/1.1; mixing with h2c or unknown schemes is refused', () => {
    const upstream = (proxyConfig({ ...base, to: ['http://127.0.0.1:1'] }).upstreams as Record<string, unknown>[])[0]!;
    assert.equal(upstream.protocol, undefined);
    assert.throws(() => proxyConfig({ ...base, to: ['http://127.0.0.1:1', 'h2c://127.0.0.1:2'] }), /mix h2c/);
    assert.throws(() => proxyConfig({ ...base, to: ['ws://x'] }), /expected http:\/\/, https:\/\/ or h2c:\/\//);
  });
});
