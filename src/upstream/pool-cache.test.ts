import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PoolCache } from './pool-cache.ts';

describe('PoolCache keys', () => {
  const base = { origin: new URL('https://a.test:8443'), connections: 8, keepAliveMs: 4000, connectTimeoutMs: 5000 };
  const key = (tls: Record<string, unknown>) => PoolCache.keyOf({ ...base, tls }, 'native');

  it('a change of CA, client certificate, key, servername, verification or minVersion makes a new pool', () => {
    const keys = [
      key({}),
      key({ ca: 'CA-1' }),
      key({ ca: 'CA-2' }),
      key({ ca: 'CA-1', cert: 'C', key: 'K' }),
      key({ ca: 'CA-1', cert: 'C', key: 'K2' }),
      key({ servername: 'b.test' }),
      key({ rejectUnauthorized: false }),
      key({ minVersion: 'TLSv1.3' }),
    ];
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(key({ ca: 'CA-1' }), key({ ca: 'CA-1' }));
  });

  it('keeps PEM text out of the key', () => {
    assert.doesNotMatch(key({ ca: '-----BEGIN CERTIFICATE-----', key: 'secret-key', cert: 'c' }), /BEGIN|secret-key/);
  });
});
