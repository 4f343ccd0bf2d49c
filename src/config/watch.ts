import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

export interface ConfigWatcherOptions {
  /** The config file and every file it references (secrets, plugin modules). */
  files: string[];
  /** Quiet time after the last event before a reload is triggered. */
  debounceMs?: number;
  onChange(changed: string[]): void;
  onError?(error: Error): void;
}

async function digest(file: string): Promise<string> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex');
  } catch {
    return 'missing';
  }
}

/**
 * Watches the directories of the config file and the files it references — editors and Kubernetes
 * ConfigMaps replace files by rename or symlink swap, which a watch on the file itself misses — and
 * calls onChange, debounced, only when a watched file's content really changed.
 */
export class ConfigWatcher {
  readonly #watchers: FSWatcher[] = [];
  readonly #digests = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(private readonly options: ConfigWatcherOptions) {}

  static async start(options: ConfigWatcherOptions): Promise<ConfigWatcher> {
    const watcher = new ConfigWatcher(options);
    await watcher.#track(options.files);
    return watcher;
  }

  /** Replace the watched set (a reload may reference other files). */
  async track(files: string[]): Promise<void> {
    for (const w of this.#watchers.splice(0)) w.close();
    this.#digests.clear();
    await this.#track(files);
  }

  async #track(files: string[]): Promise<void> {
    const absolute = [...new Set(files.map((f) => resolve(f)))];
    for (const file of absolute) this.#digests.set(file, await digest(file));
    for (const dir of new Set(absolute.map((f) => dirname(f)))) {
      const names = new Set(absolute.filter((f) => dirname(f) === dir).map((f) => basename(f)));
      try {
        const w = watch(dir, (_event, name) => {
          // ConfigMap updates swap a "..data" symlink: treat unknown names as possible changes too.
          if (name === null || names.has(String(name)) || String(name).startsWith('..')) this.#schedule();
        });
        w.on('error', (error) => this.options.onError?.(error));
        this.#watchers.push(w);
      } catch (error) {
        this.options.onError?.(error as Error);
      }
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#check(), this.options.debounceMs ?? 300);
  }

  async #check(): Promise<void> {
    const changed: string[] = [];
    for (const [file, previous] of this.#digests) {
      const now = await digest(file);
      if (now !== previous) {
        this.#digests.set(file, now);
        changed.push(file);
      }
    }
    if (changed.length > 0 && !this.#closed) this.options.onChange(changed);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of this.#watchers.splice(0)) w.close();
  }
}
