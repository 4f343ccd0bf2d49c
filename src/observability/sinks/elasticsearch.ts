// Elasticsearch / OpenSearch `_bulk` sink. Uses `create` actions so it also works with data streams.
import { BatchingQueue, type SendResult } from './queue.ts';
import { httpError, postBody } from './http-ndjson.ts';
import { SinkError, type BatchOptions } from './types.ts';

export type ElasticsearchAuth = { username: string; password: string } | { apiKey: string };

export interface ElasticsearchSinkOptions extends Partial<BatchOptions> {
  /** Cluster base URL, e.g. `https://es.example:9200`. */
  url: string;
  /** Index or data stream; `%Y`, `%m`, `%d`, `%H` expand from each line's `time` (UTC). */
  index: string;
  auth?: ElasticsearchAuth;
  headers?: Record<string, string>;
  gzip?: boolean;
  name?: string;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Expands the date pattern for one instant in UTC. */
export function expandIndex(pattern: string, date: Date): string {
  return pattern.replace(/%([YmdH%])/g, (_, c: string) => {
    switch (c) {
      case 'Y':
        return String(date.getUTCFullYear());
      case 'm':
        return pad(date.getUTCMonth() + 1);
      case 'd':
        return pad(date.getUTCDate());
      case 'H':
        return pad(date.getUTCHours());
      default:
        return '%';
    }
  });
}

/** The line's own `time` (ISO string or epoch ms) so a late retry still lands in the right daily index. */
function lineTime(line: string): Date {
  try {
    const time = (JSON.parse(line) as { time?: unknown }).time;
    if (typeof time === 'string' || typeof time === 'number') {
      const date = new Date(time);
      if (!Number.isNaN(date.getTime())) return date;
    }
  } catch {
    // Not JSON: fall through to now.
  }
  return new Date();
}

export function bulkBody(batch: string[], indexPattern: string): string {
  const dated = indexPattern.includes('%');
  let body = '';
  for (const line of batch) {
    const index = dated ? expandIndex(indexPattern, lineTime(line)) : indexPattern;
    body += `{"create":{"_index":${JSON.stringify(index)}}}\n${line}\n`;
  }
  return body;
}

interface BulkResponse {
  errors?: boolean;
  items?: Record<string, { status?: number } | undefined>[];
}

/** Splits a 200-with-errors bulk response: 429 items are retried, other failed items are dropped. */
export function bulkResult(batch: string[], text: string): SendResult {
  let parsed: BulkResponse;
  try {
    parsed = JSON.parse(text) as BulkResponse;
  } catch {
    throw new SinkError('elasticsearch: unparseable bulk response', { retryable: false });
  }
  if (!parsed.errors) return {};
  const items = parsed.items ?? [];
  const retry: string[] = [];
  let rejected = 0;
  batch.forEach((line, i) => {
    const item = items[i];
    const status = item ? Object.values(item)[0]?.status ?? 0 : 0;
    if (status === 429) retry.push(line);
    else if (status < 200 || status >= 300) rejected++;
  });
  return { rejected, retry };
}

function authHeader(auth: ElasticsearchAuth | undefined): Record<string, string> {
  if (!auth) return {};
  if ('apiKey' in auth) return { authorization: `ApiKey ${auth.apiKey}` };
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
}

export function createElasticsearchSink(options: ElasticsearchSinkOptions): BatchingQueue {
  const url = `${options.url.replace(/\/+$/, '')}/_bulk`;
  const headers = { ...options.headers, ...authHeader(options.auth), 'content-type': 'application/x-ndjson' };
  const send = async (batch: string[], signal: AbortSignal): Promise<SendResult> => {
    const res = await postBody(url, bulkBody(batch, options.index), { headers, gzip: options.gzip, signal });
    if (res.status < 200 || res.status >= 300) throw httpError(res, 'elasticsearch bulk');
    return bulkResult(batch, res.text);
  };
  return new BatchingQueue(options.name ?? 'elasticsearch', send, options);
}
