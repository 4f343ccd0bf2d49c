import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../stores/atomic-file.ts';
import { dirname, join } from 'node:path';

/** Operator override: up (always routable), down (never), drained (no new requests; in-flight ones finish). */
export type HealthOverride = 'up' | 'down' | 'drained';

export interface OverlayState {
  /** Targets registered through the admin API, by upstream name. */
  registered: Record<string, Array<{ url: string; weight?: number }>>;
  /** Config-file targets deregistered through the admin API, by upstream name. */
  removed: Record<string, string[]>;
  /** Operator health overrides, keyed `${upstream} ${url}`. */
  health: Record<string, HealthOverride>;
}

const EMPTY = (): OverlayState => ({ registered: {}, removed: {}, health: {} });

function normalizeUrl(url: string): string {
  return new URL(url).href;
}

/**
 * Runtime target changes made through the admin API (register, deregister, health override),
 * persisted to `<stateDir>/targets.json` so they survive restarts, and applied on top of every
 * config before it is validated (so they go through the same checks as a file change).
 */
export class TargetOverlay {
  #state: OverlayState = EMPTY();

  private constructor(private readonly file: string | undefined) {}

  static async open(stateDir: string | undefined): Promise<TargetOverlay> {
    const overlay = new TargetOverlay(stateDir === undefined ? undefined : join(stateDir, 'targets.json'));
    if (overlay.file !== undefined) {
      try {
        overlay.#state = { ...EMPTY(), ...(JSON.parse(await readFile(overlay.file, 'utf8')) as Partial<OverlayState>) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return overlay;
  }

  /** The config with registered targets added and deregistered ones removed (input untouched). */
  apply(raw: unknown): unknown {
    const config = structuredClone(raw) as { upstreams?: Array<{ name?: unknown; targets?: Array<{ url?: unknown }> }> };
    for (const upstream of config.upstreams ?? []) {
      if (typeof upstream.name !== 'string' || !Array.isArray(upstream.targets)) continue;
      const removed = new Set(this.#state.removed[upstream.name] ?? []);
      upstream.targets = upstream.targets.filter((t) => typeof t.url !== 'string' || !removed.has(safeNormalize(t.url)));
      const present = new Set(upstream.targets.map((t) => (typeof t.url === 'string' ? safeNormalize(t.url) : '')));
      for (const target of this.#state.registered[upstream.name] ?? []) {
        if (!present.has(normalizeUrl(target.url))) upstream.targets.push({ ...target });
      }
    }
    return config;
  }

  /** The state that would result from registering; call commit() once the config using it applied. */
  register(upstream: string, url: string, weight: number | undefined): OverlayState {
    const next = structuredClone(this.#state);
    const href = normalizeUrl(url);
    next.removed[upstream] = (next.removed[upstream] ?? []).filter((u) => u !== href);
    const list = (next.registered[upstream] ?? []).filter((t) => normalizeUrl(t.url) !== href);
    list.push(weight === undefined ? { url: href } : { url: href, weight });
    next.registered[upstream] = list;
    return next;
  }

  deregister(upstream: string, url: string): OverlayState {
    const next = structuredClone(this.#state);
    const href = normalizeUrl(url);
    const registered = next.registered[upstream] ?? [];
    next.registered[upstream] = registered.filter((t) => normalizeUrl(t.url) !== href);
    if (next.registered[upstream]!.length === registered.length) {
      next.removed[upstream] = [...new Set([...(next.removed[upstream] ?? []), href])];
    }
    delete next.health[`${upstream} ${href}`];
    return next;
  }

  /** Apply a candidate state to a config without committing it. */
  preview(state: OverlayState, raw: unknown): unknown {
    const saved = this.#state;
    this.#state = state;
    try {
      return this.apply(raw);
    } finally {
      this.#state = saved;
    }
  }

  async commit(state: OverlayState): Promise<void> {
    this.#state = state;
    await this.#persist();
  }

  health(upstream: string, url: string): HealthOverride | undefined {
    return this.#state.health[`${upstream} ${safeNormalize(url)}`];
  }

  /** Every health override, keyed `${upstream} ${url}` (a copy; sent to worker processes). */
  healthOverrides(): Record<string, HealthOverride> {
    return { ...this.#state.health };
  }

  async setHealth(upstream: string, url: string, state: HealthOverride | 'auto'): Promise<void> {
    const key = `${upstream} ${normalizeUrl(url)}`;
    if (state === 'auto') delete this.#state.health[key];
    else this.#state.health[key] = state;
    await this.#persist();
  }

  isRegistered(upstream: string, url: string): boolean {
    const href = safeNormalize(url);
    return (this.#state.registered[upstream] ?? []).some((t) => normalizeUrl(t.url) === href);
  }

  async #persist(): Promise<void> {
    if (this.file === undefined) return;
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(this.#state, null, 2));
  }
}

function safeNormalize(url: string): string {
  try {
    return normalizeUrl(url);
  } catch {
    return url;
  }
}
