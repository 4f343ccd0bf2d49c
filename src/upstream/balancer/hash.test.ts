import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fmix32, isPrime, murmur3, nextPrime } from './hash.ts';

/** Straightforward byte-wise MurmurHash3 x86_32, checked against published vectors below. */
function murmur3Bytes(bytes: Uint8Array, seed: number): number {
  let h = seed | 0;
  const blocks = bytes.length & ~3;
  const mix = (k: number) => Math.imul(((Math.imul(k, 0xcc9e2d51) << 15) | (Math.imul(k, 0xcc9e2d51) >>> 17)), 0x1b873593);
  for (let i = 0; i < blocks; i += 4) {
    h ^= mix(bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let j = bytes.length - 1; j >= blocks; j--) k = (k << 8) | bytes[j]!;
  if (bytes.length > blocks) h ^= mix(k);
  return fmix32(h ^ bytes.length);
}

describe('hash', () => {
  it('reference murmur3 matches published vectors', () => {
    const vectors: [string, number, number][] = [
      ['', 0, 0],
      ['', 1, 0x514e28b7],
      ['', 0xffffffff, 0x81f16f39],
      ['aaaa', 0x9747b28c, 0x5a97808a],
      ['Hello, world!', 0x9747b28c, 0x24884cba],
      ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    ];
    for (const [s, seed, want] of vectors) assert.equal(murmur3Bytes(Buffer.from(s, 'latin1'), seed), want, s);
  });

  it('murmur3(string) is murmur3 of its UTF-16LE bytes', () => {
    for (const s of ['', 'a', 'ab', 'abc', '203.0.113.7', 'ünïcödé ✓', '😀 surrogate', 'x'.repeat(101)]) {
      for (const seed of [0, 42, 0x9747b28c]) assert.equal(murmur3(s, seed), murmur3Bytes(Buffer.from(s, 'utf16le'), seed), `${s}/${seed}`);
    }
  });

  it('spreads similar keys evenly over buckets', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) buckets[murmur3(`10.0.${i >> 8}.${i & 255}`) % 16]!++;
    for (const b of buckets) assert.ok(b > 850 && b < 1150, `bucket ${b}`);
  });

  it('finds primes', () => {
    assert.deepEqual([1, 2, 3, 4, 9, 65537, 65541, 2.5].map(isPrime), [false, true, true, false, false, true, false, false]);
    assert.equal(nextPrime(65536), 65537);
    assert.equal(nextPrime(1000), 1009);
  });
});
