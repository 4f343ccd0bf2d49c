// Generic NDJSON-over-HTTP sink (Vector, Fluent Bit, Logstash http input, Loki gateways, ...),
// plus the small HTTP helper the vendor sinks share.
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { BatchingQueue, parseRetryAfter, type SendResult } from './queue.ts';
import { SinkError, type BatchOptions } from './types.ts';

const gzip = promisify(gzipCb);
/** Bound on error body text kept in messages: enough to diagnose, not enough to bloat logs. */
const MAX_ERROR_TEXT = 512;

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface PostOptions {
  headers?: Record<string, string> | undefined;
  gzip?: boolean | undefined;
  signal: AbortSignal;
}

/** 408/429/5xx are transient; other 4xx mean the payload or credentials are wrong and retrying cannot help. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function httpError(res: HttpResponse, what: string): SinkError {
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  return new SinkError(`${what}: HTTP ${res.status} ${res.text.slice(0, MAX_ERROR_TEXT)}`, {
    retryable: isRetryableStatus(res.status),
    status: res.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** POSTs a body and always reads the response (so the keep-alive connection is reusable). Network errors become retryable SinkErrors. */
export async function postBody(url: string, body: string, opts: PostOptions): Promise<HttpResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  let payload: string | Uint8Array = body;
  if (opts.gzip) {
    payload = new Uint8Array(await gzip(Buffer.from(body, 'utf8')));
    headers['content-encoding'] = 'gzip';
  }
  try {
    const res = await fetch(url, { method: 'POST', headers, body: payload, signal: opts.signal });
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new SinkError(`POST ${redactUrl(url)} failed: ${message}`, { retryable: true, cause: err });
  }
}

/** Drops userinfo and query so credentials embedded in a URL never reach logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

export interface HttpNdjsonSinkOptions extends Partial<BatchOptions> {
  url: string;
  /** Extra headers, e.g. `{ authorization: 'Bearer ...' }`. */
  headers?: Record<string, string>;
  gzip?: boolean;
  name?: string;
}

export function createHttpNdjsonSink(options: HttpNdjsonSinkOptions): BatchingQueue {
  const headers = { ...options.headers, 'content-type': 'application/x-ndjson' };
  const send = async (batch: string[], signal: AbortSignal): Promise<void | SendResult> => {
    const body = batch.join('\n') + '\n';
    const res = await postBody(options.url, body, { headers, gzip: options.gzip, signal });
    if (res.status < 200 || res.status >= 300) throw httpError(res, 'ndjson sink');
  };
  return new BatchingQueue(options.name ?? 'http-ndjson', send, options);
}
