import { Transform, type TransformCallback } from 'node:stream';
import { GatewayError } from '../errors/index.ts';

/**
 * gRPC-Web wire pieces (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md): the
 * trailer frame that carries the status in the body, and base64 for the -text variant, decoded
 * and encoded as the bytes stream (a chunk boundary may fall anywhere inside a base64 quartet).
 */

/** Length-prefixed frame flag of the in-body trailers. */
export const TRAILER_FLAG = 0x80;

/** Encode trailers (flat [name, value, …]) as a gRPC-Web trailer frame: 0x80, u32 length, `name:value\r\n` lines. */
export function trailerFrame(trailers: readonly string[]): Buffer {
  let text = '';
  for (let i = 0; i < trailers.length; i += 2) text += `${trailers[i]!.toLowerCase()}:${trailers[i + 1]!}\r\n`;
  const payload = Buffer.from(text, 'latin1');
  const frame = Buffer.allocUnsafe(5 + payload.length);
  frame[0] = TRAILER_FLAG;
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, 5);
  return frame;
}

/**
 * Decode base64 that may be several padded segments concatenated (each gRPC-Web-text message
 * may be encoded on its own). `input` must be a whole number of quartets.
 */
export function decodeQuartets(input: string): Buffer {
  if (!input.includes('=')) return Buffer.from(input, 'base64');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < input.length; i += 4) {
    // A quartet with padding ends a segment: decode up to and including it.
    if (input.charCodeAt(i + 3) === 61 /* = */) {
      parts.push(Buffer.from(input.slice(start, i + 4), 'base64'));
      start = i + 4;
    }
  }
  if (start < input.length) parts.push(Buffer.from(input.slice(start), 'base64'));
  return Buffer.concat(parts);
}

/** A malformed body is the client's fault (400 → INTERNAL per the gRPC HTTP mapping), not an abort. */
function badText(detail: string): GatewayError {
  return new GatewayError('SLUICE_ERR_BAD_REQUEST', { detail });
}

const BASE64_BODY = /^[A-Za-z0-9+/=]*$/;

/** Streaming base64 decoder for grpc-web-text request bodies; rejects non-base64 input. */
export class Base64Decoder extends Transform {
  private carry = '';

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    // Browsers may wrap nothing, but tolerate whitespace/newlines between segments.
    const text = this.carry + chunk.toString('latin1').replace(/\s+/g, '');
    if (!BASE64_BODY.test(text)) return done(badText('grpc-web-text request body is not base64'));
    const aligned = text.length - (text.length % 4);
    this.carry = text.slice(aligned);
    done(null, aligned === 0 ? undefined : decodeQuartets(text.slice(0, aligned)));
  }

  override _flush(done: TransformCallback): void {
    if (this.carry !== '') return done(badText('grpc-web-text request body ends inside a base64 quartet'));
    done();
  }
}

/**
 * Encode one response chunk for grpc-web-text. Each chunk is encoded on its own, padded, so a
 * message goes out as soon as it arrives (holding back a remainder would delay streamed
 * messages); clients decode padded segments quartet by quartet.
 */
export function encodeChunk(chunk: Buffer): Buffer {
  return Buffer.from(chunk.toString('base64'), 'latin1');
}
