import { murmur3 } from './hash.ts';

export const DEFAULT_KETAMA_POINTS = 160;

/**
 * Ketama-style hash ring: each target places virtual nodes at hash(id#j), as many as
 * `points × weight / max weight` (at least one). A key belongs to the first node at or after its
 * hash, wrapping. A target's node positions depend only on its id, so adding or removing one only
 * moves the keys on the arcs it gains or loses.
 */
export class KetamaRing {
  /** Node positions, ascending. */
  readonly points: Uint32Array;
  /** Target index (into the ids given) owning each node. */
  readonly owners: Int32Array;

  constructor(ids: readonly string[], weights: readonly number[], points = DEFAULT_KETAMA_POINTS) {
    let maxW = 0;
    for (const w of weights) maxW = Math.max(maxW, w);
    const nodes: { h: number; i: number }[] = [];
    for (let i = 0; i < ids.length; i++) {
      const count = Math.max(1, Math.round((points * weights[i]!) / maxW));
      for (let j = 0; j < count; j++) nodes.push({ h: murmur3(`${ids[i]}#${j}`), i });
    }
    // Ties (hash collisions) go to the target listed first, i.e. the smaller id.
    nodes.sort((a, b) => a.h - b.h || a.i - b.i);
    this.points = Uint32Array.from(nodes, (x) => x.h);
    this.owners = Int32Array.from(nodes, (x) => x.i);
  }

  /** Index of the first node at or after `hash`, wrapping to 0; the caller walks onward. */
  slot(hash: number): number {
    const points = this.points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }
}
