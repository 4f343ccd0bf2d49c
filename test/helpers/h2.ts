import { execFile } from 'node:child_process';
import http2 from 'node:http2';

export interface H2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | undefined;
  body: Buffer;
}

/** One request on an open HTTP/2 session; resolves with status, headers, body and trailers. */
export function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer | string | Iterable<Buffer>,
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const out: H2Response = { status: 0, headers: {}, trailers: undefined, body: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      out.headers = h;
      out.status = Number(h[':status']);
    });
    stream.on('trailers', (t) => (out.trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ ...out, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (typeof body === 'string' || Buffer.isBuffer(body)) stream.end(body);
    else if (body !== undefined) {
      const it = body[Symbol.iterator]();
      const pump = (): void => {
        for (let next = it.next(); !next.done; next = it.next()) if (!stream.write(next.value)) return void stream.once('drain', pump);
        stream.end();
      };
      pump();
    }
  });
}

/** Connect and wait until the session is up (rejects on a connect or protocol error). */
export function h2Connect(authority: string, options: http2.SecureClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(authority, options);
    session.once('connect', () => {
      session.off('error', reject);
      session.on('error', () => {});
      resolve(session);
    });
    session.once('error', reject);
  });
}

/** Run a CLI tool (nghttp, h2load, curl) with a time bound; never rejects. */
export function runTool(cmd: string, args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : null;
      resolve({ code, stdout, stderr });
    });
  });
}
