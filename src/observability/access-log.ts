import cluster from 'node:cluster';
import type { AccessLogConfig } from '../config/schema/observability.ts';
import { LineWriter } from './line-writer.ts';
import { REDACTED, Redactor } from './redact.ts';
import type { RequestContext } from '../runtime/context.ts';

/** Where access-log lines go: anything with write(string). */
export interface AccessLogSink {
  write(line: string): unknown;
  flush?(): void;
}

/** Buffered stdout for access lines: one asynchronous write per ~256 KiB or 200 ms. */
export function bufferedStdout(): LineWriter {
  return new LineWriter(1, cluster.isWorker, true);
}

// Quote, backslash, controls, DEL and everything beyond ASCII.
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;
const NON_ASCII = /[\u007f-\uffff]/g;
const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * JSON-quote a request-derived string (paths and hosts come from the client). Most values need no
 * escaping: a regex test plus a template is several times cheaper than JSON.stringify. Non-ASCII
 * characters are written as \uXXXX, so every access line is pure ASCII: its bytes are the same in
 * any encoding and it can be written without a UTF-8 encoding pass (the line writer uses latin1).
 */
function str(value: string): string {
  return NEEDS_JSON_ESCAPE.test(value) ? JSON.stringify(value).replace(NON_ASCII, unicodeEscape) : `"${value}"`;
}

let cachedSecond = 0;
let cachedPrefix = '';

/** ISO time with the per-second part cached: one Date per second instead of per request. */
export function isoTime(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const ms = now - second * 1000;
  return `${cachedPrefix}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
let clfSecond = 0;
let clfTime = '';

/** `10/Oct/2000:13:55:36 +0000` (UTC), cached per second. */
export function clfTimestamp(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== clfSecond) {
    clfSecond = second;
    const d = new Date(second * 1000);
    clfTime =
      `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
      `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
  }
  return clfTime;
}

const rounded = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * Milliseconds with 3 decimals as JSON number text, from integer microseconds: integer-to-string is
 * several times cheaper than printing a double (`12.346`, `0.08`, `5` as `12.346`, `0.080`, `5.000`).
 */
function msText(ms: number): string {
  const us = Math.round(ms * 1000);
  if (!(us >= 0) || us > 9e15) return Number.isFinite(ms) ? String(rounded(ms)) : 'null';
  const frac = us % 1000;
  return `${(us - frac) / 1000}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
}

/** Quoted config names (listener, route, upstream, target): a few distinct values, quoted once. */
const quotedNames = new Map<string, string>();
function quotedName(value: string): string {
  let quoted = quotedNames.get(value);
  if (quoted === undefined) {
    // Names come from configs; bound the cache anyway (the admin API can add many over time).
    if (quotedNames.size >= 10_000) quotedNames.clear();
    quotedNames.set(value, (quoted = str(value)));
  }
  return quoted;
}

/**
 * One JSON line per request, built directly as a string: the fields are known, so this skips the
 * generic logger's serialization and redaction passes (headers only appear when configured, and
 * redacted ones never with their value). Same shape as the structured logger's lines: level, time,
 * service, kind, then the fields.
 */
export function formatAccessLine(ctx: RequestContext, now: number, durationMs: number): string {
  return `${jsonCore(ctx, now, durationMs, true)}}\n`;
}

/** Everything but the closing brace and newline, so configured extras can be appended. */
function jsonCore(ctx: RequestContext, now: number, durationMs: number, userAgent: boolean): string {
  let line =
    `{"level":"info","time":"${isoTime(now)}","service":"sluice","kind":"access","requestId":${str(ctx.id)}` +
    `,"listener":${quotedName(ctx.listener)},"clientIp":"${ctx.clientIp}","method":${quotedName(ctx.method)},"host":${str(ctx.host)}` +
    `,"path":${str(ctx.path)},"status":${ctx.status},"durationMs":${msText(durationMs)},"bytesSent":${ctx.bytesSent}` +
    `,"bytesReceived":${ctx.bytesReceived}`;
  if (ctx.upstreamMs >= 0) line += `,"upstreamMs":${msText(ctx.upstreamMs)}`;
  // Only the exception is written: most requests take one attempt.
  if (ctx.attempts > 1) line += `,"attempts":${ctx.attempts}`;
  if (ctx.traceId !== '') line += `,"traceId":${str(ctx.traceId)}`;
  if (ctx.route !== undefined) line += `,"route":${quotedName(ctx.route.name)}`;
  if (ctx.target !== undefined) line += `,"upstream":${quotedName(ctx.target.upstream)},"target":${quotedName(ctx.target.url)}`;
  if (ctx.error !== undefined) line += `,"errorCode":"${ctx.error.code}"`;
  // Only the exception is written: HTTP/1.x is the norm.
  if (ctx.req.httpVersionMajor === 2) line += ',"httpVersion":"2.0"';
  if (userAgent) {
    const ua = ctx.headers['user-agent'];
    if (ua !== undefined) line += `,"userAgent":${str(ua)}`;
  }
  // Only the exception is written: a response cut short (client gone, upstream truncated).
  return ctx.res.writableFinished ? line : `${line},"completed":false`;
}

// Anything a client could use to break out of a quoted field or start a new line.
const UNSAFE_QUOTED = /[\x00-\x1f"\\\x7f-\uffff]/;
const UNSAFE_BARE = /[\x00-\x20"\\\x7f-\uffff]/;

function hexEscape(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '"') return '\\"';
  if (c === '\\') return '\\\\';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Escapes a client-controlled string for a quoted field of a combined line (Apache style: `\"`,
 * `\\`, `\xHH` for control and non-ASCII characters), so no value can end the field or the line.
 */
export function escapeQuoted(value: string): string {
  return UNSAFE_QUOTED.test(value) ? value.replace(/[\x00-\x1f"\\\x7f-\uffff]/g, hexEscape) : value;
}

/** Same for an unquoted `key=value` field: spaces are escaped too, so a value cannot fake a field. */
export function escapeBare(value: string): string {
  return UNSAFE_BARE.test(value) ? value.replace(/[\x00-\x20"\\\x7f-\uffff]/g, hexEscape) : value;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? value : value.join(', ');
}

/** Resolved access-log settings (schema defaults applied); `undefined` from `accessLogSettings` means off. */
export interface AccessLogSettings {
  format: 'json' | 'combined';
  sampleRate: number;
  alwaysLogErrors: boolean;
  requestHeaders: readonly string[];
  query: boolean;
}

export function accessLogSettings(config: boolean | AccessLogConfig | undefined): AccessLogSettings | undefined {
  if (config === false) return undefined;
  const c = config === true || config === undefined ? {} : config;
  if (c.enabled === false) return undefined;
  return {
    format: c.format ?? 'json',
    sampleRate: c.sampleRate ?? 1,
    alwaysLogErrors: c.alwaysLogErrors ?? true,
    requestHeaders: c.requestHeaders ?? [],
    query: c.query ?? false,
  };
}

export type AccessFormatter = (ctx: RequestContext, now: number, durationMs: number) => string;

/** Chooses the line builder once per config: the per-request path has no option checks left. */
export function accessFormatter(settings: AccessLogSettings, redactor: Redactor): AccessFormatter {
  return settings.format === 'combined' ? combinedFormatter(settings, redactor) : jsonFormatter(settings, redactor);
}

function jsonFormatter(settings: AccessLogSettings, redactor: Redactor): AccessFormatter {
  const headers = settings.requestHeaders.map((name) => {
    const lower = name.toLowerCase();
    return { lower, key: str(lower), redacted: redactor.isRedactedHeader(lower) };
  });
  const query = settings.query;
  const userAgent = !redactor.isRedactedHeader('user-agent');
  if (headers.length === 0 && !query && userAgent) return formatAccessLine;
  return (ctx, now, durationMs) => {
    let line = jsonCore(ctx, now, durationMs, userAgent);
    if (query && ctx.query !== '') line += `,"query":${str(redactor.maskQuery(ctx.query))}`;
    if (headers.length > 0) {
      let fields = '';
      for (const h of headers) {
        const value = headerText(ctx.headers[h.lower]);
        if (value === undefined) continue;
        fields += `${fields === '' ? '' : ','}${h.key}:${h.redacted ? `"${REDACTED}"` : str(redactor.maskString(value))}`;
      }
      if (fields !== '') line += `,"requestHeaders":{${fields}}`;
    }
    return `${line}}\n`;
  };
}

/**
 * Apache/nginx combined plus request id, duration and route:
 * `ip - - [time] "GET /path?query HTTP/1.1" 200 2326 "referer" "user-agent" rid=… dur=… route=…`.
 * The query is included when `query` is on (masked); bytes are `-` when nothing was sent.
 */
function combinedFormatter(settings: AccessLogSettings, redactor: Redactor): AccessFormatter {
  const withQuery = settings.query;
  // A referer is a URL (its query may carry a token); either header may be on the redact list.
  const hideReferer = redactor.isRedactedHeader('referer');
  const hideUa = redactor.isRedactedHeader('user-agent');
  return (ctx, now, durationMs) => {
    const target = withQuery && ctx.query !== '' ? `${ctx.path}?${redactor.maskQuery(ctx.query)}` : ctx.path;
    const rawReferer = headerText(ctx.headers.referer);
    const referer = rawReferer === undefined ? undefined : hideReferer ? REDACTED : redactor.maskString(rawReferer);
    const rawUa = headerText(ctx.headers['user-agent']);
    const ua = rawUa === undefined ? undefined : hideUa ? REDACTED : rawUa;
    return (
      `${ctx.clientIp} - - [${clfTimestamp(now)}] "${escapeQuoted(ctx.method)} ${escapeQuoted(target)} HTTP/${escapeQuoted(ctx.req.httpVersion)}" ` +
      `${ctx.status} ${ctx.bytesSent > 0 ? ctx.bytesSent : '-'} "${referer === undefined ? '-' : escapeQuoted(referer)}" ` +
      `"${ua === undefined ? '-' : escapeQuoted(ua)}" rid=${escapeBare(ctx.id)} dur=${rounded(durationMs)}` +
      `${ctx.route === undefined ? '' : ` route=${escapeBare(ctx.route.name)}`}${ctx.error === undefined ? '' : ` err=${ctx.error.code}`}\n`
    );
  };
}

type Emit = (line: string) => void;

/**
 * The access log: formats each finished request and hands the line to its destinations. All
 * decisions (format, sampling, destinations) are made in `configure`, once per config apply.
 */
export class AccessLog {
  #write: (ctx: RequestContext, durationMs: number) => void = () => undefined;
  #sampledOut = 0;
  #sinks: readonly AccessLogSink[] = [];

  /** `sink` alone: every request as a JSON line (the original behaviour). */
  constructor(sink?: AccessLogSink, settings?: AccessLogSettings, redactor = new Redactor()) {
    if (sink !== undefined) this.configure(settings ?? accessLogSettings(true)!, [sink], redactor);
  }

  configure(settings: AccessLogSettings, sinks: readonly AccessLogSink[], redactor: Redactor): void {
    this.#sinks = sinks;
    const format = accessFormatter(settings, redactor);
    const emit: Emit =
      sinks.length === 0
        ? () => undefined
        : sinks.length === 1
          ? (line) => void sinks[0]!.write(line)
          : (line) => {
              for (const sink of sinks) sink.write(line);
            };
    const rate = settings.sampleRate;
    if (rate >= 1) {
      this.#write = (ctx, durationMs) => emit(format(ctx, Date.now(), durationMs));
      return;
    }
    const keepErrors = settings.alwaysLogErrors;
    this.#write = (ctx, durationMs) => {
      if (Math.random() < rate || (keepErrors && (ctx.status >= 500 || ctx.error !== undefined))) emit(format(ctx, Date.now(), durationMs));
      else this.#sampledOut++;
    };
  }

  write(ctx: RequestContext, durationMs: number): void {
    this.#write(ctx, durationMs);
  }

  /** Requests not logged because of `sampleRate` (monotonic, across config changes). */
  get sampledOut(): number {
    return this.#sampledOut;
  }

  flush(): void {
    for (const sink of this.#sinks) {
      try {
        sink.flush?.();
      } catch {
        // nothing buffered, or the destination is gone: nothing to save
      }
    }
  }
}
