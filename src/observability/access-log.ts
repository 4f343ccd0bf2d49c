import cluster from 'node:cluster';
import { LineWriter } from './line-writer.ts';
import type { RequestContext } from '../runtime/context.ts';

/** Where access-log lines go: anything with write(string). */
export interface AccessLogSink {
  write(line: string): unknown;
  flush?(): void;
}

/** Buffered stdout for access lines: one asynchronous write per ~32 KiB or 200 ms. */
export function bufferedStdout(): AccessLogSink {
  return new LineWriter(1, cluster.isWorker);
}

/** JSON-escape a request-derived string (paths and hosts come from the client). */
const str = JSON.stringify;

let cachedSecond = 0;
let cachedPrefix = '';

/** ISO time with the per-second part cached: one Date per second instead of per request. */
function isoTime(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const ms = now - second * 1000;
  return `${cachedPrefix}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

/**
 * One JSON line per request, built directly as a string: the fields are known, so this skips the
 * generic logger's serialization and redaction passes (the line carries no headers, so no secrets).
 * Same shape as the structured logger's lines: level, time, service, kind, then the fields.
 */
export function formatAccessLine(ctx: RequestContext, now: number, durationMs: number): string {
  const duration = Math.round(durationMs * 1000) / 1000;
  let line =
    `{"level":"info","time":"${isoTime(now)}","service":"sluice","kind":"access","requestId":${str(ctx.id)}` +
    `,"listener":${str(ctx.listener)},"clientIp":"${ctx.clientIp}","method":${str(ctx.method)},"host":${str(ctx.host)}` +
    `,"path":${str(ctx.path)},"status":${ctx.status},"durationMs":${duration},"bytesSent":${ctx.bytesSent}`;
  if (ctx.route !== undefined) line += `,"route":${str(ctx.route.name)}`;
  if (ctx.target !== undefined) line += `,"upstream":${str(ctx.target.upstream)},"target":${str(ctx.target.url)}`;
  if (ctx.error !== undefined) line += `,"errorCode":"${ctx.error.code}"`;
  return `${line},"completed":${ctx.res.writableFinished}}\n`;
}

export class AccessLog {
  constructor(private readonly sink: AccessLogSink) {}

  write(ctx: RequestContext, durationMs: number): void {
    this.sink.write(formatAccessLine(ctx, Date.now(), durationMs));
  }

  flush(): void {
    try {
      this.sink.flush?.();
    } catch {
      // nothing buffered, or the destination is gone: nothing to save
    }
  }
}
