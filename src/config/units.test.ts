import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { duration, size } from './schema/index.ts';
import { parseDuration, parseSize } from './units.ts';

describe('parseDuration', () => {
  it('reads integers as milliseconds and unit strings', () => {
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration(500), 500);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h'), 3_600_000);
  });

  it('rejects what the schema rejects', () => {
    for (const bad of [-1, 1.5, Number.NaN, '', '30', '1.5s', '30 s', '5d', '-1s', 'ms']) {
      assert.equal(Value.Check(duration(), bad), false, String(bad));
      assert.throws(() => parseDuration(bad), RangeError, String(bad));
    }
  });
});

describe('parseSize', () => {
  it('reads integers as bytes and units as powers of 1024', () => {
    assert.equal(parseSize(1000), 1000);
    assert.equal(parseSize('512b'), 512);
    assert.equal(parseSize('16kb'), 16 * 1024);
    assert.equal(parseSize('10mb'), 10 * 1024 * 1024);
    assert.equal(parseSize('1gb'), 1024 ** 3);
  });

  it('rejects what the schema rejects, and values beyond safe integers', () => {
    for (const bad of [-5, 0.5, '10 MB', '10MB', '1tb', 'kb']) {
      assert.equal(Value.Check(size(), bad), false, String(bad));
      assert.throws(() => parseSize(bad), RangeError, String(bad));
    }
    assert.throws(() => parseSize('99999999999999gb'), /too large/);
  });
});
