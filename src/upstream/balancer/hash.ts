/**
 * Hash functions for the hashing balancers. Non-cryptographic and allocation-free: they read the
 * string's UTF-16 code units directly instead of encoding it to bytes first.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Murmur3 finalizer: full avalanche of a 32-bit integer. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

/**
 * MurmurHash3 (x86, 32-bit) of `key` as UTF-16LE bytes, two code units per block. Equal to
 * murmur3_32(Buffer.from(key, 'utf16le'), seed). Returns an unsigned 32-bit integer.
 */
export function murmur3(key: string, seed = 0): number {
  const len = key.length;
  const end = len & ~1;
  let h = seed | 0;
  let i = 0;
  for (; i < end; i += 2) {
    h ^= mixK(key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < len) h ^= mixK(key.charCodeAt(i));
  h ^= len * 2; // length in bytes, as the reference does
  return fmix32(h);
}

/** Is `n` prime? Trial division: only used at construction on table sizes. */
export function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** Smallest prime ≥ n. */
export function nextPrime(n: number): number {
  let p = Math.max(2, Math.ceil(n));
  while (!isPrime(p)) p++;
  return p;
}
