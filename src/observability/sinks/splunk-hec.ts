// Splunk HTTP Event Collector sink: events are concatenated JSON envelopes in one POST.
import { hostname } from 'node:os';
import { BatchingQueue } from './queue.ts';
import { httpError, postBody } from './http-ndjson.ts';
import { SinkError, type BatchOptions } from './types.ts';

export interface SplunkHecSinkOptions extends Partial<BatchOptions> {
  /** HEC base URL, e.g. `https://splunk.example:8088`. */
  url: string;
  token: string;
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
  gzip?: boolean;
  name?: string;
}

interface Envelope {
  host: string;
  source: string;
  sourcetype: string;
  index?: string;
}

/** Epoch seconds with a millisecond fraction, from the line's `time` (HEC's own clock would skew retried events). */
function eventTime(event: unknown): number {
  const time = (event as { time?: unknown } | null)?.time;
  const ms = typeof time === 'string' || typeof time === 'number' ? new Date(time).getTime() : NaN;
  return Math.round(Number.isNaN(ms) ? Date.now() : ms) / 1000;
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return line; // HEC accepts a string event; keep non-JSON lines rather than drop them.
  }
}

export function hecBody(batch: string[], envelope: Envelope): string {
  let body = '';
  for (const line of batch) {
    const event = parseLine(line);
    body += JSON.stringify({ time: eventTime(event), ...envelope, event }) + '\n';
  }
  return body;
}

export function createSplunkHecSink(options: SplunkHecSinkOptions): BatchingQueue {
  const url = `${options.url.replace(/\/+$/, '')}/services/collector/event`;
  const headers = { authorization: `Splunk ${options.token}`, 'content-type': 'application/json' };
  const envelope: Envelope = {
    host: options.host ?? hostname(),
    source: options.source ?? 'sluice',
    sourcetype: options.sourcetype ?? '_json',
    ...(options.index === undefined ? {} : { index: options.index }),
  };
  const send = async (batch: string[], signal: AbortSignal): Promise<void> => {
    const res = await postBody(url, hecBody(batch, envelope), { headers, gzip: options.gzip, signal });
    if (res.status < 200 || res.status >= 300) throw httpError(res, 'splunk hec');
    const code = hecCode(res.text);
    if (code !== 0) throw new SinkError(`splunk hec: code ${code} ${res.text.slice(0, 512)}`, { retryable: false });
  };
  return new BatchingQueue(options.name ?? 'splunk-hec', send, options);
}

/** HEC acknowledges with `{"text":"Success","code":0}`; a 2xx with another code is still a rejection. */
function hecCode(text: string): number | string {
  if (text.trim() === '') return 0; // some proxies strip the body; the 2xx status is still an ack
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code;
    return typeof code === 'number' ? code : 0;
  } catch {
    return 'unparseable';
  }
}
