/**
 * A mutable header list over a flat [name, value, name, value, …] array, the shape node:http
 * gives (`rawHeaders`) and takes (`writeHead`), so no per-request object is built from it.
 * Names keep their case; lookups are case-insensitive.
 */
export class HeaderList {
  constructor(public raw: string[] = []) {}

  get(name: string): string | undefined {
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) if (equalsIgnoreCase(raw[i]!, name)) return raw[i + 1];
    return undefined;
  }

  getAll(name: string): string[] {
    const out: string[] = [];
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) if (equalsIgnoreCase(raw[i]!, name)) out.push(raw[i + 1]!);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replace every value of `name` with one value. */
  set(name: string, value: string): void {
    this.delete(name);
    this.raw.push(name, value);
  }

  add(name: string, value: string): void {
    this.raw.push(name, value);
  }

  delete(name: string): boolean {
    const raw = this.raw;
    let w = 0;
    for (let r = 0; r < raw.length; r += 2) {
      if (equalsIgnoreCase(raw[r]!, name)) continue;
      raw[w++] = raw[r]!;
      raw[w++] = raw[r + 1]!;
    }
    const removed = w !== raw.length;
    raw.length = w;
    return removed;
  }

  rename(from: string, to: string): void {
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) if (equalsIgnoreCase(raw[i]!, from)) raw[i] = to;
  }

  get size(): number {
    return this.raw.length >> 1;
  }
}

export function equalsIgnoreCase(a: string, b: string): boolean {
  return a.length === b.length && (a === b || a.toLowerCase() === b.toLowerCase());
}
