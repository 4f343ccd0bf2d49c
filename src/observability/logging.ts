import pino, { type Logger } from 'pino';
import { LOG_MODULES, type LogLevel, type LogModule, type ObservabilityConfig, type SinkConfig } from '../config/schema/observability.ts';
import { AccessLog, accessLogSettings, bufferedStdout, isoTime, type AccessLogSink } from './access-log.ts';
import { createConfiguredSink, currentSinkEnvironment, sinkNames, sinksKey, type ConfiguredSink, type SinkEnvironment } from './log-sinks.ts';
import { loggerOptions } from './logger.ts';
import { Redactor } from './redact.ts';
import type { LineWriter } from './line-writer.ts';
import type { SinkStats } from './sinks/index.ts';

export { LOG_MODULES, type LogLevel, type LogModule };

/** Effective levels: the root logger's and each module's. */
export interface LogLevels {
  level: LogLevel;
  modules: Record<LogModule, LogLevel>;
}

export interface LoggingOptions {
  /**
   * Lines that would go to stdout go to this logger's destination instead (tests). Its level is the
   * starting level; the config's levels apply from the first config on.
   */
  logger?: Logger;
  /** Access lines that would go to stdout go here instead (default: buffered stdout). */
  accessLogSink?: AccessLogSink;
  /** Fields on every app log line (e.g. `{ worker, pid }` in a cluster worker). */
  bindings?: Record<string, unknown>;
  /** Worker id and environment for file names, CloudWatch streams and AWS credentials (default: this process). */
  sinkEnvironment?: SinkEnvironment;
  /** How often sinks that dropped lines are reported (default 30 s). */
  warnEveryMs?: number;
}

type LineTarget = { write(line: string): unknown };

/** pino's destination for app lines: fans each line out to the sinks whose streams include `app`. */
class AppRouter {
  targets: LineTarget[] = [];
  write(line: string): void {
    const targets = this.targets;
    for (let i = 0; i < targets.length; i++) targets[i]!.write(line);
  }
  /** Set by Logging: writes what stdout buffers (remote sinks flush on their own schedule and on close). */
  onFlush: () => void = () => undefined;
  /** `logger.flush()` (before exit). */
  flush(cb?: (err?: Error) => void): void {
    this.onFlush();
    cb?.();
  }
}

interface Retiring {
  sinks: ConfiguredSink[];
  done: Promise<void>;
}

const ZERO = (name: string): SinkStats => ({ name, queued: 0, sent: 0, dropped: 0, failedBatches: 0, retries: 0 });

function addStats(into: SinkStats, s: SinkStats): void {
  into.queued += s.queued;
  into.sent += s.sent;
  into.dropped += s.dropped;
  into.failedBatches += s.failedBatches;
  into.retries += s.retries;
}

/** A JSON document for destinations that only take JSON, around a combined access line. */
function wrapTextLine(line: string): string {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  return `{"level":"info","time":"${isoTime(Date.now())}","service":"sluice","kind":"access","message":${JSON.stringify(text)}}\n`;
}

/**
 * The gateway's logging: the root logger and its per-module children, the access log, redaction
 * and the log sinks, all (re)configured from `observability` on every config apply.
 */
/** Bound of the app-log stdout buffer (a blocked stdout reader must not grow the heap without limit). */
const STDOUT_APP_MAX_BYTES = 16 * 1024 * 1024;

export class Logging {
  /** Root logger; its level is `observability.logLevel` (or the runtime override). */
  readonly logger: Logger;
  readonly redactor = new Redactor();
  readonly #modules = new Map<LogModule, Logger>();
  readonly #router = new AppRouter();
  readonly #accessLog = new AccessLog();
  readonly #options: LoggingOptions;
  readonly #env: SinkEnvironment;
  #accessEnabled = false;
  #sinks: ConfiguredSink[] = [];
  #sinksKey: string | undefined;
  readonly #retiring = new Set<Retiring>();
  /** Totals of sinks already closed, by name: counters stay monotonic across rebuilds. */
  readonly #retired = new Map<string, SinkStats>();
  #stdoutApp: LineTarget | undefined;
  /** App lines dropped because stdout did not keep up (its buffer is bounded like the access writer's). */
  #stdoutAppDropped = 0;
  #stdoutAccess: AccessLogSink | undefined;
  #closed = false;
  #levelsKey: string | undefined;
  #configLevel: LogLevel = 'info';
  #configModules: Partial<Record<LogModule, LogLevel>> = {};
  #runtimeLevel: LogLevel | undefined;
  #runtimeModules: Partial<Record<LogModule, LogLevel>> = {};
  readonly #warnTimer: NodeJS.Timeout;
  readonly #reportedDrops = new Map<string, number>();

  constructor(options: LoggingOptions = {}) {
    this.#options = options;
    this.#env = options.sinkEnvironment ?? currentSinkEnvironment();
    const level = (options.logger?.level ?? 'info') as LogLevel;
    this.#configLevel = level;
    this.#router.onFlush = () => this.flush();
    this.logger = pino(loggerOptions(level, this.redactor, options.bindings), this.#router);
    for (const name of LOG_MODULES) this.#modules.set(name, this.logger.child({ module: name }));
    this.#installSinks([{ type: 'stdout' }]);
    this.#accessLog.configure(accessLogSettings(true)!, this.#accessTargets('json'), this.redactor);
    this.#accessEnabled = true;
    this.#warnTimer = setInterval(() => this.#reportDrops(), options.warnEveryMs ?? 30_000);
    this.#warnTimer.unref();
  }

  /** The logger of one part of the gateway (`module` in its lines); its level can differ from the root's. */
  module(name: LogModule): Logger {
    return this.#modules.get(name)!;
  }

  /** The access log, or undefined while it is off. Hot path: `logging.accessLog?.write(ctx, durationMs)`. */
  get accessLog(): AccessLog | undefined {
    return this.#accessEnabled ? this.#accessLog : undefined;
  }

  /** Requests left out of the access log by `sampleRate` (monotonic). */
  get accessSampledOut(): number {
    return this.#accessLog.sampledOut;
  }

  /**
   * Puts an `observability` section in force: redaction lists, access-log settings, levels (only
   * when the levels in the config changed: a runtime override survives unrelated config changes)
   * and sinks (rebuilt only when their config changed; the old ones flush and close in the background).
   */
  apply(config: ObservabilityConfig | undefined): void {
    if (this.#closed) return;
    this.redactor.update(config?.redact);
    this.#applyLevels(config);
    const settings = accessLogSettings(config?.accessLog);
    const key = sinksKey(config?.sinks);
    if (key !== this.#sinksKey) {
      const previous = this.#sinks;
      this.#installSinks(config?.sinks !== undefined && config.sinks.length > 0 ? config.sinks : [{ type: 'stdout' }]);
      this.#sinksKey = key;
      this.#retire(previous);
      if (config?.sinks !== undefined) this.module('sinks').info({ sinks: this.#sinks.map((s) => ({ name: s.name, type: s.type })) }, 'log sinks configured');
    }
    const targets = settings === undefined ? [] : this.#accessTargets(settings.format);
    // No sink takes access lines: the pipeline skips the access log altogether.
    this.#accessEnabled = targets.length > 0;
    if (settings !== undefined && targets.length > 0) this.#accessLog.configure(settings, targets, this.redactor);
  }

  /** Effective levels now. */
  levels(): LogLevels {
    const modules = {} as Record<LogModule, LogLevel>;
    for (const [name, logger] of this.#modules) modules[name] = logger.level as LogLevel;
    return { level: this.logger.level as LogLevel, modules };
  }

  /**
   * Runtime level change (admin API): the root level (modules without a level of their own follow
   * it) or one module's. Lasts until a config changes the levels, or the process restarts.
   */
  setLevel(level: LogLevel, module?: LogModule): void {
    if (module === undefined) this.#runtimeLevel = level;
    else this.#runtimeModules[module] = level;
    this.#recomputeLevels();
  }

  /** Takes exactly these levels as runtime overrides (a cluster worker following the primary). */
  forceLevels(levels: LogLevels): void {
    this.#runtimeLevel = levels.level;
    this.#runtimeModules = { ...levels.modules };
    this.#recomputeLevels();
  }

  /** Per sink: lines queued, sent, dropped (cumulative per name across rebuilds), failed batches, retries. */
  sinkStats(): SinkStats[] {
    const byName = new Map<string, SinkStats>();
    const add = (name: string, s: SinkStats) => {
      let into = byName.get(name);
      if (into === undefined) byName.set(name, (into = ZERO(name)));
      addStats(into, s);
    };
    for (const s of this.#sinks) add(s.name, this.#statsOf(s));
    for (const r of this.#retiring) for (const s of r.sinks) if (byName.has(s.name)) add(s.name, this.#statsOf(s));
    for (const [name, totals] of this.#retired) if (byName.has(name)) add(name, { ...totals, queued: 0 });
    return [...byName.values()];
  }

  /** Write buffered stdout lines now (synchronously where possible: this runs before exit). */
  flush(): void {
    this.#accessLog.flush();
    this.#stdoutAccess?.flush?.();
    const stdout = this.#stdoutApp as { flushSync?: () => void } | undefined;
    try {
      stdout?.flushSync?.();
    } catch {
      // not open yet, or closed: nothing buffered we could save
    }
  }

  /**
   * Flush and close every sink within `deadlineMs` (gateway stop). Lines logged afterwards still
   * reach stdout; other sinks drop them.
   */
  async close(deadlineMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#warnTimer);
    this.flush();
    const closing = [...this.#sinks.map((s) => s.sink?.close(deadlineMs)), ...[...this.#retiring].map((r) => r.done)];
    // Sinks bound their own close; sinks retired by a reload may still be closing on a longer deadline.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(closing), new Promise((r) => (timer = setTimeout(r, deadlineMs + 100)))]);
    clearTimeout(timer);
    this.#reportDrops();
    this.flush();
  }

  #applyLevels(config: ObservabilityConfig | undefined): void {
    const key = JSON.stringify([config?.logLevel ?? 'info', config?.moduleLevels ?? {}]);
    if (key === this.#levelsKey) return;
    this.#levelsKey = key;
    this.#configLevel = config?.logLevel ?? 'info';
    this.#configModules = { ...(config?.moduleLevels ?? {}) } as Partial<Record<LogModule, LogLevel>>;
    this.#runtimeLevel = undefined;
    this.#runtimeModules = {};
    this.#recomputeLevels();
  }

  #recomputeLevels(): void {
    const root = this.#runtimeLevel ?? this.#configLevel;
    this.logger.level = root;
    // Every module gets an explicit level: pino children stop following the parent once set.
    for (const [name, logger] of this.#modules) logger.level = this.#runtimeModules[name] ?? this.#configModules[name] ?? root;
  }

  #stdoutAppTarget(): LineTarget {
    if (this.#stdoutApp === undefined) {
      const injected = this.#options.logger as (Logger & Record<symbol, unknown>) | undefined;
      const stream = injected?.[pino.symbols.streamSym] as LineTarget | undefined;
      this.#stdoutApp = stream ?? (injected !== undefined ? { write: (line: string) => process.stdout.write(line) } : this.#boundedStdout());
    }
    return this.#stdoutApp;
  }

  /** Async stdout for app lines; a stalled reader costs at most STDOUT_APP_MAX_BYTES, then lines are dropped and counted. */
  #boundedStdout(): LineTarget {
    const destination = pino.destination({ dest: 1, sync: false, maxLength: STDOUT_APP_MAX_BYTES });
    destination.on('drop', () => this.#stdoutAppDropped++);
    return destination;
  }

  #stdoutAccessTarget(): AccessLogSink {
    this.#stdoutAccess ??= this.#options.accessLogSink ?? bufferedStdout();
    return this.#stdoutAccess;
  }

  #installSinks(configs: readonly SinkConfig[]): void {
    const names = sinkNames(configs);
    const built: ConfiguredSink[] = [];
    configs.forEach((config, i) => {
      try {
        built.push(createConfiguredSink(config, names[i]!, this.#env));
      } catch (error) {
        this.module('sinks').error({ err: error, sink: names[i] }, 'log sink could not be created; its lines are not written');
      }
    });
    this.#sinks = built;
    this.#router.targets = built.filter((s) => s.app).map((s) => s.sink ?? this.#stdoutAppTarget());
  }

  #accessTargets(format: string): AccessLogSink[] {
    return this.#sinks
      .filter((s) => s.access)
      .map((s): AccessLogSink => {
        if (s.sink === undefined) return this.#stdoutAccessTarget();
        const sink = s.sink;
        return format === 'combined' && s.jsonOnly ? { write: (line: string) => sink.write(wrapTextLine(line)) } : sink;
      });
  }

  #statsOf(s: ConfiguredSink): SinkStats {
    if (s.sink !== undefined) return { ...s.sink.stats(), name: s.name };
    const stats = ZERO(s.name);
    const writer = this.#stdoutAccess as Partial<LineWriter> | undefined;
    if (s.access && typeof writer?.accepted === 'number') {
      stats.queued = writer.queued ?? 0;
      stats.sent = writer.accepted - (writer.queued ?? 0);
      stats.dropped = writer.dropped ?? 0;
    }
    if (s.app) stats.dropped += this.#stdoutAppDropped;
    return stats;
  }

  #retire(sinks: ConfiguredSink[]): void {
    const closing = sinks.filter((s) => s.sink !== undefined);
    if (closing.length === 0) return;
    const entry: Retiring = {
      sinks: closing,
      done: Promise.allSettled(closing.map((s) => s.sink!.close(10_000))).then(() => {
        this.#retiring.delete(entry);
        for (const s of closing) {
          const totals = this.#retired.get(s.name) ?? ZERO(s.name);
          addStats(totals, { ...s.sink!.stats(), queued: 0 });
          this.#retired.set(s.name, totals);
        }
      }),
    };
    this.#retiring.add(entry);
  }

  /** A warning (module `sinks`) for each sink that dropped lines since the last report. */
  #reportDrops(): void {
    for (const stats of this.sinkStats()) {
      const before = this.#reportedDrops.get(stats.name) ?? 0;
      if (stats.dropped <= before) continue;
      this.#reportedDrops.set(stats.name, stats.dropped);
      const sink = this.#sinks.find((s) => s.name === stats.name)?.sink as { lastError?: Error } | undefined;
      this.module('sinks').warn(
        { sink: stats.name, dropped: stats.dropped - before, droppedTotal: stats.dropped, queued: stats.queued, lastError: sink?.lastError?.message },
        'log sink dropped lines (destination slow or down)',
      );
    }
  }
}
