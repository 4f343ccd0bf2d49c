import http2 from 'node:http2';
import type { OutgoingHttpHeaders } from 'node:http';

/** Header names RFC 9113 §8.2.2 forbids on HTTP/2; node would drop them with a process warning. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * The compat response handed to the pipeline for HTTP/2 requests, made to behave like the
 * node:http ServerResponse the pipeline was written against, so the same code serves both:
 * - `destroyed` exists (the stream's), as on ServerResponse;
 * - `writeHead(status, statusText, headers)` drops the status text (HTTP/2 has none);
 * - `setHeader('connection', …)` is ignored: HTTP/2 has no connection header. Where HTTP/1.1 closes
 *   a connection whose request body was not read, node resets just that stream (RST_STREAM
 *   NO_ERROR) once the response is complete;
 * - `addTrailers` also takes the [name, value] pairs forward.ts builds.
 */
export class H2Response extends http2.Http2ServerResponse {
  override setHeader(name: string, value: number | string | readonly string[]): this {
    if (CONNECTION_SPECIFIC.has(name.toLowerCase())) return this;
    super.setHeader(name, value);
    return this;
  }

  override writeHead(statusCode: number, ...rest: unknown[]): this {
    const headers = typeof rest[0] === 'string' ? rest[1] : rest[0];
    return headers === undefined ? super.writeHead(statusCode) : super.writeHead(statusCode, headers as OutgoingHttpHeaders);
  }

  override addTrailers(trailers: OutgoingHttpHeaders | ReadonlyArray<[string, string]>): void {
    if (!Array.isArray(trailers)) return super.addTrailers(trailers as OutgoingHttpHeaders);
    // One trailer field per name: repeated names of the raw list are joined (RFC 9110 §5.3).
    const joined: Record<string, string> = {};
    for (const [name, value] of trailers as ReadonlyArray<[string, string]>) {
      const key = name.toLowerCase();
      joined[key] = joined[key] === undefined ? value : `${joined[key]}, ${value}`;
    }
    super.addTrailers(joined);
  }
}

// Typed as a property by @types/node but absent at runtime on the compat response.
Object.defineProperty(H2Response.prototype, 'destroyed', {
  get(this: H2Response): boolean {
    return this.stream.destroyed;
  },
  // Should a node version assign it, the stream's state still answers.
  set(_value: unknown) {},
});
