/**
 * Duration and size values as the schema accepts them (see `duration()` and `size()` in
 * schema/common.ts): a non-negative integer, or an integer with a unit. Parsing is done once at
 * compile time; the hot path only ever sees milliseconds and bytes.
 */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

// Same grammar as the schema patterns, so anything that validated also parses.
const DURATION_RE = /^([0-9]+)(ms|s|m|h)$/;
const SIZE_RE = /^([0-9]+)(b|kb|mb|gb)$/;

function parseUnit(kind: string, v: number | string, re: RegExp, units: Record<string, number>): number {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0) return v;
    throw new RangeError(`invalid ${kind} ${v}: expected a non-negative integer`);
  }
  const m = re.exec(v);
  if (m === null) throw new RangeError(`invalid ${kind} ${JSON.stringify(v)}`);
  const result = Number(m[1]) * units[m[2]!]!;
  if (!Number.isSafeInteger(result)) throw new RangeError(`${kind} ${JSON.stringify(v)} is too large`);
  return result;
}

/** Milliseconds from `500`, `"250ms"`, `"30s"`, `"5m"`, `"1h"`. Throws RangeError otherwise. */
export function parseDuration(v: number | string): number {
  return parseUnit('duration', v, DURATION_RE, DURATION_UNITS);
}

/** Bytes from `1024`, `"512b"`, `"16kb"`, `"10mb"`, `"1gb"` (powers of 1024). Throws RangeError otherwise. */
export function parseSize(v: number | string): number {
  return parseUnit('size', v, SIZE_RE, SIZE_UNITS);
}
