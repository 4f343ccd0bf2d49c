/**
 * Strict, incremental HTTP/1.1 response parser over Buffers.
 *
 * Head and trailer sections are parsed line by line (indexOf LF, then CR checked), so a head split
 * across packets is only re-joined from the start of its unfinished line. Chunked framing is a
 * byte-level state machine, so chunk-size lines never need buffering. Body bytes are handed out as
 * zero-copy views. Anything ambiguous or malformed is rejected: a proxy that guesses at framing is a
 * request-smuggling / response-splitting vector.
 */

/** What the parser reports. Implemented once (by the connection), so calls stay monomorphic. */
export interface ParserEvents {
  onInformational(status: number, headers: string[]): void;
  onResponseHead(status: number, reason: string, headers: string[]): void;
  onBody(chunk: Buffer): void;
  /** `reusable`: keep-alive allowed and no stray bytes followed the message. */
  onMessageComplete(trailers: string[], reusable: boolean): void;
  onParseError(detail: string): void;
}

export const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_EXT_BYTES = 4096;
/** 12 hex digits = 2^48 bytes: far beyond any real chunk, safely inside a double. */
const MAX_CHUNK_SIZE_DIGITS = 12;

// States
const S_HEAD = 0;
const S_BODY_LENGTH = 1;
const S_BODY_EOF = 2;
const S_CHUNK_SIZE = 3;
const S_CHUNK_BWS = 4;
const S_CHUNK_EXT = 5;
const S_CHUNK_SIZE_LF = 6;
const S_CHUNK_DATA = 7;
const S_CHUNK_DATA_CR = 8;
const S_CHUNK_DATA_LF = 9;
const S_TRAILERS = 10;
const S_DONE = 11;
const S_DEAD = 12;

/** Results of `finish()` (the upstream closed its side). */
export const EOF_IDLE = 0; // no byte of this response had arrived
export const EOF_COMPLETE = 1; // read-until-close body: the close completes it
export const EOF_TRUNCATED = 2; // the response was cut short

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;

/** tchar per RFC 9110 §5.6.2. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c <= 9; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) HEX[65 + c] = HEX[97 + c] = 10 + c;

const NAME_CONTENT_LENGTH = Buffer.from('content-length');
const NAME_TRANSFER_ENCODING = Buffer.from('transfer-encoding');
const NAME_CONNECTION = Buffer.from('connection');
const NAME_KEEP_ALIVE = Buffer.from('keep-alive');

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
/** Node's internal latin1 decoder (what toString('latin1') ends up in), minus the argument juggling. */
const HAS_LATIN1_SLICE = typeof (Buffer.prototype as Partial<Latin1Buffer>).latin1Slice === 'function';

export function latin1(buf: Buffer, start: number, end: number): string {
  return HAS_LATIN1_SLICE ? (buf as Latin1Buffer).latin1Slice(start, end) : buf.toString('latin1', start, end);
}

/** Shared, frozen: most responses have no trailers, so don't allocate an array for each. */
const NO_TRAILERS: string[] = Object.freeze([]) as unknown as string[];

export class ResponseParser {
  private state = S_DONE;
  private noBody = false;
  /** Unfinished head/trailer line carried over to the next packet. */
  private pending: Buffer | null = null;
  private sectionBytes = 0;
  private fields: string[] = [];
  private started = false;
  // Current head
  private statusSeen = false;
  private status = 0;
  private reason = '';
  private http11 = true;
  private connectionClose = false;
  private keepAliveHint = -1;
  private contentLength = -1;
  private chunked = false;
  // Body framing
  private remaining = 0;
  private sizeDigits = 0;
  private extBytes = 0;
  private keepAlive = false;

  constructor(private readonly events: ParserEvents) {}

  /** Expect a new response. `noBody`: the request was HEAD. */
  reset(noBody: boolean): void {
    this.state = S_HEAD;
    this.noBody = noBody;
    this.started = false;
    this.pending = null;
    if (this.fields.length !== 0) this.fields = []; // left over from a failed parse
    this.resetHead();
  }

  /** Stop for good (connection destroyed): no more events, even mid-execute. */
  halt(): void {
    this.state = S_DEAD;
    this.pending = null;
  }

  /** `Keep-Alive: timeout=N` of the last response head, in ms; -1 when absent. */
  get keepAliveHintMs(): number {
    return this.keepAliveHint;
  }

  /** Whether any byte of the current response has arrived. */
  get responseBytesSeen(): boolean {
    return this.started;
  }

  /** The upstream closed its side: complete a read-until-close body, or report what was lost. */
  finish(): number {
    if (this.state === S_BODY_EOF) {
      this.state = S_DONE;
      this.events.onMessageComplete(NO_TRAILERS, false);
      return EOF_COMPLETE;
    }
    return this.started ? EOF_TRUNCATED : EOF_IDLE;
  }

  execute(input: Buffer): void {
    let buf = input;
    let pos = 0;
    if (this.state === S_DEAD) return;
    if (buf.length > 0) this.started = true;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, buf]);
      this.pending = null;
    }
    const len = buf.length;
    while (pos < len) {
      const state = this.state;
      if (state === S_HEAD || state === S_TRAILERS) {
        pos = this.parseLines(buf, pos);
      } else if (state === S_BODY_LENGTH || state === S_CHUNK_DATA) {
        pos = this.emitBody(buf, pos);
      } else if (state === S_BODY_EOF) {
        this.events.onBody(pos === 0 ? buf : buf.subarray(pos));
        return;
      } else if (state === S_DONE) {
        return this.fail('unexpected data after the response');
      } else if (state === S_DEAD) {
        return;
      } else {
        pos = this.chunkFraming(buf, pos);
      }
      if (pos < 0) return;
    }
  }

  /** Clear per-head state. `fields` is swapped for a fresh array by whoever hands it out. */
  private resetHead(): void {
    this.sectionBytes = 0;
    this.statusSeen = false;
    this.status = 0;
    this.reason = '';
    this.http11 = true;
    this.connectionClose = false;
    this.keepAliveHint = -1;
    this.contentLength = -1;
    this.chunked = false;
  }

  private fail(detail: string): void {
    this.halt();
    this.events.onParseError(detail);
  }

  /** Head or trailer lines. Returns the next position, or -1 when parsing must stop. */
  private parseLines(buf: Buffer, start: number): number {
    let pos = start;
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) {
        if (this.sectionBytes + buf.length - pos > MAX_HEAD_BYTES) return this.tooLarge();
        if (pos < buf.length) this.pending = buf.subarray(pos);
        return buf.length;
      }
      if (lf === pos || buf[lf - 1] !== CR) return this.failAt('bare LF line ending');
      this.sectionBytes += lf + 1 - pos;
      if (this.sectionBytes > MAX_HEAD_BYTES) return this.tooLarge();
      const end = lf - 1;
      if (end === pos) return this.endOfSection(buf, lf + 1);
      const ok = this.state === S_HEAD && !this.statusSeen ? this.statusLine(buf, pos, end) : this.fieldLine(buf, pos, end);
      if (!ok) return -1;
      pos = lf + 1;
    }
  }

  private failAt(detail: string): number {
    this.fail(detail);
    return -1;
  }

  private tooLarge(): number {
    return this.failAt(this.state === S_HEAD ? 'response head too large' : 'response trailers too large');
  }

  /** `HTTP/1.x NNN[ reason]` */
  private statusLine(buf: Buffer, start: number, end: number): boolean {
    if (
      end - start < 12 ||
      buf[start] !== 72 || buf[start + 1] !== 84 || buf[start + 2] !== 84 || buf[start + 3] !== 80 ||
      buf[start + 4] !== 47 || buf[start + 5] !== 49 || buf[start + 6] !== 46 || buf[start + 8] !== SP
    ) {
      this.fail('invalid status line');
      return false;
    }
    const minor = buf[start + 7];
    if (minor !== 49 && minor !== 48) {
      this.fail('unsupported HTTP version');
      return false;
    }
    const d1 = buf[start + 9]! - 48;
    const d2 = buf[start + 10]! - 48;
    const d3 = buf[start + 11]! - 48;
    if (d1 < 1 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9 || (end > start + 12 && buf[start + 12] !== SP)) {
      this.fail('invalid status code');
      return false;
    }
    if (!validValue(buf, start + 13, end)) {
      this.fail('invalid reason phrase');
      return false;
    }
    this.http11 = minor === 49;
    this.status = d1 * 100 + d2 * 10 + d3;
    this.reason = end > start + 13 ? latin1(buf, start + 13, end) : '';
    this.statusSeen = true;
    return true;
  }

  private fieldLine(buf: Buffer, start: number, end: number): boolean {
    let i = start;
    while (i < end && TOKEN[buf[i]!] === 1) i++;
    if (i === start || i === end || buf[i] !== 58 /* : */) {
      const c = buf[start];
      this.fail(c === SP || c === HTAB ? 'obsolete line folding' : 'invalid header name');
      return false;
    }
    const nameEnd = i++;
    while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
    let vEnd = end;
    while (vEnd > i && (buf[vEnd - 1] === SP || buf[vEnd - 1] === HTAB)) vEnd--;
    if (!validValue(buf, i, vEnd)) {
      this.fail('invalid header value');
      return false;
    }
    const value = latin1(buf, i, vEnd);
    if (this.state === S_HEAD && !this.framingField(buf, start, nameEnd - start, value)) return false;
    this.fields.push(latin1(buf, start, nameEnd), value);
    return true;
  }

  /** Track the fields that decide framing and connection reuse. */
  private framingField(buf: Buffer, start: number, nameLen: number, value: string): boolean {
    if (nameLen === 14 && equalsLower(buf, start, NAME_CONTENT_LENGTH)) {
      const n = parseContentLength(value);
      if (n < 0 || (this.contentLength >= 0 && this.contentLength !== n)) {
        this.fail('invalid or conflicting Content-Length');
        return false;
      }
      this.contentLength = n;
    } else if (nameLen === 17 && equalsLower(buf, start, NAME_TRANSFER_ENCODING)) {
      // Only a single `chunked` coding can be framed; anything else (gzip, chunked twice, identity)
      // would leave the body's end ambiguous or hand the client an undeclared coding.
      if (this.chunked || value.toLowerCase() !== 'chunked') {
        this.fail('unsupported Transfer-Encoding');
        return false;
      }
      this.chunked = true;
    } else if (nameLen === 10 && equalsLower(buf, start, NAME_CONNECTION)) {
      if (hasToken(value, 'close')) this.connectionClose = true;
    } else if (nameLen === 10 && equalsLower(buf, start, NAME_KEEP_ALIVE)) {
      const m = /(?:^|[\s,;])timeout\s*=\s*(\d{1,9})/i.exec(value);
      if (m !== null) this.keepAliveHint = Number(m[1]) * 1000;
    }
    return true;
  }

  /** Empty line: the head (or trailer section) is complete. */
  private endOfSection(buf: Buffer, pos: number): number {
    if (this.state === S_TRAILERS) {
      const trailers = this.fields;
      this.fields = [];
      return this.complete(trailers.length === 0 ? NO_TRAILERS : trailers, buf, pos);
    }
    if (!this.statusSeen) return this.failAt('empty status line');
    const status = this.status;
    if (status < 200) return this.informational(status, pos);
    if (this.chunked && this.contentLength >= 0) return this.failAt('both Content-Length and Transfer-Encoding');
    this.keepAlive = this.http11 && !this.connectionClose;
    let next = S_DONE;
    if (this.noBody || status === 204 || status === 304) next = S_DONE;
    else if (this.chunked) next = S_CHUNK_SIZE;
    else if (this.contentLength > 0) next = S_BODY_LENGTH;
    else if (this.contentLength < 0) {
      next = S_BODY_EOF;
      this.keepAlive = false;
    }
    this.remaining = next === S_BODY_LENGTH ? this.contentLength : 0;
    this.sizeDigits = 0;
    this.state = next;
    const headers = this.fields;
    this.fields = [];
    this.events.onResponseHead(status, this.reason, headers);
    if (this.state !== next) return -1; // halted by the handler
    if (next === S_DONE) return this.complete(NO_TRAILERS, buf, pos);
    return pos;
  }

  /** 1xx: report it and keep parsing for the final response (upgrades are not handled here). */
  private informational(status: number, pos: number): number {
    if (status === 101) return this.failAt('unexpected 101 Switching Protocols');
    const headers = this.fields;
    this.fields = [];
    this.resetHead();
    this.events.onInformational(status, headers);
    return this.state === S_HEAD ? pos : -1;
  }

  private complete(trailers: string[], buf: Buffer, pos: number): number {
    this.state = S_DONE;
    this.events.onMessageComplete(trailers, this.keepAlive && pos === buf.length);
    return -1; // never parse past a message: the connection decides what happens next
  }

  private emitBody(buf: Buffer, pos: number): number {
    const avail = buf.length - pos;
    const n = avail < this.remaining ? avail : this.remaining;
    const chunk = n === buf.length ? buf : buf.subarray(pos, pos + n);
    this.remaining -= n;
    const state = this.state;
    if (this.remaining === 0) this.state = state === S_BODY_LENGTH ? S_DONE : S_CHUNK_DATA_CR;
    const after = this.state;
    this.events.onBody(chunk);
    if (this.state !== after) return -1; // halted by the handler
    if (after === S_DONE) return this.complete(NO_TRAILERS, buf, pos + n);
    return pos + n;
  }

  /** chunk-size [ BWS ; ext ] CRLF … data CRLF, one byte at a time (these lines are tiny). */
  private chunkFraming(buf: Buffer, start: number): number {
    let pos = start;
    const len = buf.length;
    while (pos < len) {
      const c = buf[pos++]!;
      switch (this.state) {
        case S_CHUNK_SIZE: {
          const v = HEX[c]!;
          if (v >= 0) {
            if (++this.sizeDigits > MAX_CHUNK_SIZE_DIGITS) return this.failAt('chunk size too large');
            this.remaining = this.remaining * 16 + v;
          } else if (this.sizeDigits === 0) return this.failAt('invalid chunk size');
          else if (c === CR) this.state = S_CHUNK_SIZE_LF;
          else if (c === 59 /* ; */) this.startExt();
          else if (c === SP || c === HTAB) this.state = S_CHUNK_BWS;
          else return this.failAt('invalid chunk size');
          break;
        }
        case S_CHUNK_BWS:
          if (c === 59) this.startExt();
          else if (c !== SP && c !== HTAB) return this.failAt('invalid chunk extension');
          break;
        case S_CHUNK_EXT:
          if (c === CR) this.state = S_CHUNK_SIZE_LF;
          else if ((c < SP && c !== HTAB) || c === 127 || ++this.extBytes > MAX_CHUNK_EXT_BYTES) {
            return this.failAt('invalid chunk extension');
          }
          break;
        case S_CHUNK_SIZE_LF:
          if (c !== LF) return this.failAt('missing LF after chunk size');
          if (this.remaining === 0) return this.startTrailers(pos);
          this.state = S_CHUNK_DATA;
          return pos;
        case S_CHUNK_DATA_CR:
          if (c !== CR) return this.failAt('missing CRLF after chunk data');
          this.state = S_CHUNK_DATA_LF;
          break;
        case S_CHUNK_DATA_LF:
          if (c !== LF) return this.failAt('missing CRLF after chunk data');
          this.state = S_CHUNK_SIZE;
          this.remaining = 0;
          this.sizeDigits = 0;
          break;
      }
    }
    return pos;
  }

  private startExt(): void {
    this.state = S_CHUNK_EXT;
    this.extBytes = 0;
  }

  private startTrailers(pos: number): number {
    this.state = S_TRAILERS;
    this.sectionBytes = 0;
    this.fields = [];
    return pos;
  }
}

/** field-value / reason-phrase: HTAB, SP, VCHAR, obs-text. No CTLs (so no CR, LF, NUL). */
function validValue(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if ((c < SP && c !== HTAB) || c === 127) return false;
  }
  return true;
}

/** ASCII case-insensitive compare of buf[start…] with a lower-case name (token chars only). */
function equalsLower(buf: Buffer, start: number, lower: Buffer): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[start + i]! | 0x20) !== lower[i]) return false;
  return true;
}

/** 1*DIGIT, or a list of identical values ("5, 5"), which RFC 9110 §8.6 lets a recipient accept. */
function parseContentLength(value: string): number {
  let result = -1;
  for (const part of value.includes(',') ? value.split(',') : [value]) {
    const s = part.trim();
    if (s.length === 0 || s.length > 15) return -1;
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return -1;
      n = n * 10 + d;
    }
    if (result >= 0 && n !== result) return -1;
    result = n;
  }
  return result;
}

function hasToken(list: string, token: string): boolean {
  const lower = list.toLowerCase();
  if (lower === token) return true;
  if (!lower.includes(token)) return false; // the usual `keep-alive`: no split
  for (const part of lower.split(',')) if (part.trim() === token) return true;
  return false;
}
