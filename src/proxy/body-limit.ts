import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';

/**
 * Passes a chunked request body through while counting it; past `max` bytes it calls
 * `onExceeded` once and swallows the rest, so the upstream never receives an over-long body.
 * (A plain 'data' listener would switch the body to flowing mode and race the upstream client.)
 */
class BodyLimit extends Transform {
  #received = 0;
  #exceeded = false;

  constructor(
    private readonly max: number,
    private readonly onExceeded: () => void,
    private readonly counter: { bytesReceived: number } | undefined,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#exceeded) return callback();
    this.#received += chunk.length;
    if (this.counter !== undefined) this.counter.bytesReceived += chunk.length;
    if (this.#received <= this.max) return callback(null, chunk);
    this.#exceeded = true;
    this.onExceeded();
    callback();
  }
}

/** `counter.bytesReceived` (the request context) grows with every chunk passed on. */
export function limitBody(body: Readable, max: number, onExceeded: () => void, counter?: { bytesReceived: number }): Readable {
  const limited = new BodyLimit(max, onExceeded, counter);
  // pipeline forwards a client abort or a malformed chunk as an error, so the upstream call fails
  // instead of seeing a clean end of body.
  pipeline(body, limited, () => {});
  return limited;
}
