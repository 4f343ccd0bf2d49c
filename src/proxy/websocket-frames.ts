/**
 * RFC 6455 frame boundaries tracked as bytes stream through a tunnel, in one direction. Only frame
 * headers are read (FIN, opcode, MASK, 7/16/64-bit length): payloads are neither unmasked nor
 * buffered, so the cost per chunk is a few comparisons unless a header is in it. The tracker is what
 * lets the gateway enforce frame/message size limits and inject its own close frame at a boundary.
 */

export interface FrameLimits {
  /** Largest frame payload allowed (bytes). */
  maxFrame: number;
  /** Largest data message allowed (sum of its fragments' payloads). */
  maxMessage: number;
}

/** Outcomes of FrameTracker.scan. */
export const ScanResult = {
  /** The whole chunk was consumed; no limit broken. */
  Ok: 0,
  /** A frame header broke a limit; `offset` is where that header starts (may be < 0: it began in an earlier chunk). */
  TooBig: 1,
  /** Stopped at the first frame boundary (stopAtBoundary); `offset` is the boundary's position in the chunk. */
  Boundary: 2,
} as const;
export type ScanResult = (typeof ScanResult)[keyof typeof ScanResult];

const OP_CONTINUATION = 0x0;

export class FrameTracker {
  /** Payload bytes of the current frame still to pass; 0 between frames. */
  #remaining = 0;
  /** Bytes of an incomplete header seen so far (0..14) and what we know of it. */
  #headerLen = 0;
  #headerNeed = 2;
  readonly #header = Buffer.alloc(14);
  /** Payload bytes of the data message in progress (fragments summed). */
  #messageBytes = 0;
  /** Position of the last scan's stop (TooBig / Boundary). */
  offset = 0;
  /** Frames seen, and whether a close frame passed (the peer started the closing handshake). */
  frames = 0;
  closeSeen = false;

  constructor(private readonly limits: FrameLimits) {}

  /** True when the bytes passed so far end exactly at a frame boundary (a frame may be injected). */
  get atBoundary(): boolean {
    return this.#remaining === 0 && this.#headerLen === 0;
  }

  /** Bytes of a header not yet complete at the end of the last chunk (held back by the tunnel). */
  get partialHeader(): number {
    return this.#headerLen;
  }

  /**
   * Follow `chunk`. With `stopAtBoundary`, stop at the first point between frames (the chunk's
   * start counts when already at a boundary) so the caller can inject a frame there.
   */
  scan(chunk: Buffer, stopAtBoundary = false): ScanResult {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, n - i);
        this.#remaining -= take;
        i += take;
        continue;
      }
      if (stopAtBoundary && this.#headerLen === 0) {
        this.offset = i;
        return ScanResult.Boundary;
      }
      // Collect header bytes; most headers are complete within one chunk.
      const start = i - this.#headerLen;
      while (i < n && this.#headerLen < this.#headerNeed) {
        const b = chunk[i++]!;
        this.#header[this.#headerLen++] = b;
        if (this.#headerLen === 2) {
          const len7 = b & 0x7f;
          this.#headerNeed = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b & 0x80 ? 4 : 0);
        }
      }
      if (this.#headerLen < this.#headerNeed) break;
      if (!this.#onHeader()) {
        this.offset = start;
        return ScanResult.TooBig;
      }
    }
    if (stopAtBoundary && this.atBoundary) {
      this.offset = n;
      return ScanResult.Boundary;
    }
    return ScanResult.Ok;
  }

  /** A complete header is in #header: check limits, start its payload. False when a limit is broken. */
  #onHeader(): boolean {
    const h = this.#header;
    const opcode = h[0]! & 0x0f;
    const fin = (h[0]! & 0x80) !== 0;
    const len7 = h[1]! & 0x7f;
    let length: number;
    if (len7 === 126) length = h.readUInt16BE(2);
    else if (len7 === 127) {
      const high = h.readUInt32BE(2);
      // Past 2^53 a length cannot be followed exactly, and is far beyond any limit anyway.
      if (high > 0x1fffff) return false;
      length = high * 0x1_0000_0000 + h.readUInt32BE(6);
    } else length = len7;
    this.#headerLen = 0;
    this.#headerNeed = 2;
    this.frames++;
    if (length > this.limits.maxFrame) return false;
    if (opcode >= 0x8) {
      if (opcode === 0x8) this.closeSeen = true;
    } else {
      this.#messageBytes = opcode === OP_CONTINUATION ? this.#messageBytes + length : length;
      if (this.#messageBytes > this.limits.maxMessage) return false;
      if (fin) this.#messageBytes = 0;
    }
    this.#remaining = length;
    return true;
  }
}

/** WebSocket close codes the gateway sends itself. */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_MESSAGE_TOO_BIG = 1009;

/**
 * A close frame made by the gateway: unmasked towards the client (server role), masked with a
 * random key towards the upstream (client role), as RFC 6455 §5.1 requires.
 */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  const text = Buffer.from(reason.slice(0, 120), 'utf8').subarray(0, 123);
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  const head = masked ? 6 : 2;
  const frame = Buffer.allocUnsafe(head + payload.length);
  frame[0] = 0x88; // FIN + close
  frame[1] = (masked ? 0x80 : 0) | payload.length;
  if (masked) {
    const key = crypto.getRandomValues(new Uint8Array(4));
    frame.set(key, 2);
    for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ key[i & 3]!;
  } else payload.copy(frame, 2);
  return frame;
}
