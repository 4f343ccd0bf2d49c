// A local OTLP/HTTP trace receiver for tests: decodes what exporters send (protobuf or JSON,
// gzip or not) so assertions are made on spans, not bytes.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeJsonTraces, decodeProtobufTraces, type DecodedSpan } from './otlp-decode.ts';

export type { AttrValue, Attributes, DecodedSpan } from './otlp-decode.ts';
export { SPAN_KIND, STATUS_CODE } from './otlp-decode.ts';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  contentType: string;
  spans: number;
}

export interface OtlpReceiver {
  /** Full traces URL (`http://127.0.0.1:<port>/v1/traces`). */
  url: string;
  spans(): DecodedSpan[];
  /** Resolves once at least `n` spans arrived (all of them so far); rejects after `timeoutMs`. */
  waitForSpans(n: number, timeoutMs: number): Promise<DecodedSpan[]>;
  requests(): ReceivedRequest[];
  /** Bodies that failed to decode (the receiver answered 400). */
  errors(): string[];
  /** Answer every following export with this status (e.g. 500 or 503 to exercise failures); 200 restores. */
  setStatus(status: number): void;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: DecodedSpan[] = [];
  const requests: ReceivedRequest[] = [];
  const errors: string[] = [];
  const waiters = new Set<() => void>();
  let status = 200;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const json = contentType === 'application/json';
      if (status !== 200) {
        res.writeHead(status, { 'content-type': 'text/plain' }).end('refused by test');
        return;
      }
      let spans: DecodedSpan[];
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        spans = json ? decodeJsonTraces(JSON.parse(body.toString('utf8'))) : decodeProtobufTraces(body);
      } catch (err) {
        errors.push((err as Error).message);
        res.writeHead(400, { 'content-type': 'text/plain' }).end((err as Error).message);
        return;
      }
      received.push(...spans);
      requests.push({ path: req.url ?? '', headers: req.headers, contentType, spans: spans.length });
      // An empty ExportTraceServiceResponse: zero bytes in protobuf, {} in JSON.
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
      for (const w of [...waiters]) w();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans: () => [...received],
    requests: () => [...requests],
    errors: () => [...errors],
    setStatus: (s) => {
      status = s;
    },
    waitForSpans(n, timeoutMs) {
      if (received.length >= n) return Promise.resolve([...received]);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (received.length < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve([...received]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`waited ${timeoutMs} ms for ${n} spans, got ${received.length}${errors.length ? ` (decode errors: ${errors.join('; ')})` : ''}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
