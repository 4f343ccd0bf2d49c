import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/**
 * Streams one request body at a time onto a connection's socket, with backpressure both ways
 * (pause the body when the socket buffer is full, resume on 'drain'). One writer per connection;
 * its listeners are bound once, so a request allocates no closures.
 */
export interface BodyWriterEvents {
  /** The whole request (head, body, framing) has been handed to the socket. */
  onRequestWritten(): void;
  /** The body stream failed or closed early: the client went away. */
  onBodyAborted(cause: unknown): void;
  /** The body did not match its declared Content-Length. */
  onBodyLengthMismatch(detail: string): void;
}

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

function noop(): void {}

function deferredFailure(writer: BodyWriter, kind: number, arg: unknown): void {
  writer.report(kind, arg);
}

const FAIL_ABORTED = 0;
const FAIL_LENGTH = 1;

export class BodyWriter {
  /** @internal the body being streamed; null once detached. */
  body: Readable | null = null;
  /** Bytes still expected under Content-Length, or -1 for chunked. */
  private remaining = -1;
  private waitingDrain = false;
  private ended = false;
  /** Inside start(): failures are reported on the next tick, never from within request(). */
  private starting = false;
  /** Whether any body byte has been taken from the stream (then the call cannot be replayed). */
  touched = false;

  /** Head held back for one tick while the first body chunk arrives. */
  pendingHead: string | null = null;
  private readonly onData = (chunk: Buffer | string): void => this.data(chunk);
  private readonly onEnd = (): void => this.end();
  private readonly onError = (err: unknown): void => this.abort(err);
  private readonly onClose = (): void => this.abort(undefined);

  constructor(
    private readonly socket: Socket,
    private readonly events: BodyWriterEvents,
  ) {
    socket.on('drain', () => {
      if (this.waitingDrain && this.body !== null) {
        this.waitingDrain = false;
        this.body.resume();
      }
    });
  }

  /** Write `head`, then stream `body` (framed by `contentLength`, or chunked when null). */
  start(head: string, body: Readable | null, contentLength: number | null): void {
    this.touched = false;
    this.waitingDrain = false;
    this.ended = false;
    if (body === null || body.readableEnded) {
      const last = body !== null && contentLength === null ? LAST_CHUNK : '';
      this.socket.write(last === '' ? head : head + last, 'latin1');
      if (body !== null && contentLength !== null && contentLength !== 0) {
        process.nextTick(deferredFailure, this, FAIL_LENGTH, 'request body ended before Content-Length');
        return;
      }
      this.events.onRequestWritten();
      return;
    }
    if (body.destroyed) {
      process.nextTick(deferredFailure, this, FAIL_ABORTED, body.errored ?? undefined);
      return;
    }
    this.body = body;
    this.remaining = contentLength ?? -1;
    body.on('error', this.onError);
    body.on('close', this.onClose);
    if (body.readableLength === 0) {
      // node:http pushes a request's first body bytes right after the 'request' event returns, in
      // the same tick: waiting one tick lets the head and that chunk leave in one write.
      this.pendingHead = head;
      process.nextTick(continueStart, this, body);
      return;
    }
    this.begin(head, body);
  }

  /** @internal second half of start(), after the optional one-tick wait. */
  begin(head: string, body: Readable): void {
    this.starting = true;
    // Take what is already buffered, so the head and the first chunk leave in one write.
    const first = body.read() as Buffer | string | null;
    if (first === null) this.socket.write(head, 'latin1');
    else {
      this.socket.cork();
      this.socket.write(head, 'latin1');
      this.data(first);
      this.socket.uncork();
    }
    this.starting = false;
    if (this.body === null) return; // failed on the first chunk
    body.on('data', this.onData);
    body.on('end', this.onEnd);
    if (!this.waitingDrain) body.resume();
  }

  /** Stop reading the body (request done, connection gone, or call retried elsewhere). */
  detach(): void {
    const body = this.body;
    if (body === null) return;
    this.body = null;
    this.pendingHead = null;
    this.waitingDrain = false;
    body.removeListener('data', this.onData);
    body.removeListener('end', this.onEnd);
    body.removeListener('error', this.onError);
    body.removeListener('close', this.onClose);
    if (!this.ended) {
      // The stream is the caller's; leave it paused, and never let a later error go unhandled.
      body.pause();
      body.on('error', noop);
    }
  }

  private data(input: Buffer | string): void {
    const chunk = typeof input === 'string' ? Buffer.from(input) : input;
    const n = chunk.length;
    if (n === 0) return; // an empty chunk would read as the chunked terminator
    this.touched = true;
    const socket = this.socket;
    let ok: boolean;
    if (this.remaining >= 0) {
      this.remaining -= n;
      if (this.remaining < 0) return this.mismatch('request body longer than Content-Length');
      ok = socket.write(chunk);
    } else {
      socket.cork();
      socket.write(n.toString(16) + CRLF, 'latin1');
      socket.write(chunk);
      ok = socket.write(CRLF, 'latin1');
      socket.uncork();
    }
    if (!ok && this.body !== null) {
      this.waitingDrain = true;
      this.body.pause();
    }
  }

  private end(): void {
    this.ended = true;
    if (this.remaining > 0) return this.mismatch('request body shorter than Content-Length');
    if (this.remaining < 0) this.socket.write(LAST_CHUNK, 'latin1');
    this.detach();
    this.events.onRequestWritten();
  }

  private abort(cause: unknown): void {
    if (this.body === null || this.ended) return;
    this.detach();
    this.events.onBodyAborted(cause);
  }

  private mismatch(detail: string): void {
    this.detach();
    if (this.starting) process.nextTick(deferredFailure, this, FAIL_LENGTH, detail);
    else this.report(FAIL_LENGTH, detail);
  }

  /** @internal */
  report(kind: number, arg: unknown): void {
    if (kind === FAIL_LENGTH) this.events.onBodyLengthMismatch(arg as string);
    else this.events.onBodyAborted(arg);
  }
}

function continueStart(writer: BodyWriter, body: Readable): void {
  const head = writer.pendingHead;
  writer.pendingHead = null;
  // Detached or aborted meanwhile: nothing was written, nothing to do.
  if (head === null || writer.body !== body) return;
  writer.begin(head, body);
}
