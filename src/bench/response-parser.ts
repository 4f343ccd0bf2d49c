/**
 * Incremental, strict HTTP/1.1 response parser for the load generator. One response at a time (we
 * never pipeline), so bytes left over after a complete response are a protocol error: that is how
 * framing bugs in the gateway under test (wrong Content-Length, bad chunking) show up as errors
 * instead of as inflated throughput.
 */
export class ProtocolError extends Error {}

// Plain numbers, not an enum, so the file also runs under type-stripping loaders.
const State = { Head: 0, Length: 1, UntilClose: 2, ChunkSize: 3, ChunkData: 4, ChunkCrlf: 5, Trailers: 6, Done: 7 } as const;
type State = (typeof State)[keyof typeof State];
const MAX_HEAD = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

export class ResponseParser {
  status = 0;
  bodyBytes = 0;
  /** The response carried `Connection: close` (or was HTTP/1.0 without keep-alive). */
  close = false;
  /** The response carried `Connection: keep-alive`. */
  keepAlive = false;
  private state: State = State.Head;
  private pending: Buffer | null = null;
  private remaining = 0;
  private line = '';

  reset(): void {
    this.status = 0;
    this.bodyBytes = 0;
    this.close = false;
    this.keepAlive = false;
    this.state = State.Head;
    this.pending = null;
    this.line = '';
  }

  /** Feed bytes from the socket; true once a whole response has arrived. */
  feed(chunk: Buffer): boolean {
    let buf = chunk;
    if (this.state === State.Head) {
      if (this.pending) buf = Buffer.concat([this.pending, chunk]);
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        if (buf.length > MAX_HEAD) throw new ProtocolError('response head too large');
        this.pending = Buffer.from(buf); // a copy: the caller may reuse its read buffer
        return false;
      }
      this.pending = null;
      this.parseHead(buf.toString('latin1', 0, end));
      buf = buf.subarray(end + 4);
      if (this.status < 200) { // 1xx interim response: the real one follows
        this.reset();
        return buf.length > 0 ? this.feed(buf) : false;
      }
    }
    const off = this.body(buf, 0);
    if (this.state !== State.Done) return false;
    if (off < buf.length) throw new ProtocolError('bytes after the end of the response');
    return true;
  }

  /** The peer closed: completes a read-until-close body, anything else was cut short. */
  end(): boolean {
    if (this.state === State.UntilClose) {
      this.state = State.Done;
      return true;
    }
    return this.state === State.Done;
  }

  private parseHead(head: string): void {
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(head);
    if (!m) throw new ProtocolError('bad status line');
    this.status = Number(m[2]);
    let length = -1;
    let chunked = false;
    let conn = m[1] === '0' ? 'close' : '';
    for (const line of head.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new ProtocolError('bad header line');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value) || (length >= 0 && Number(value) !== length)) {
          throw new ProtocolError('bad content-length');
        }
        length = Number(value);
      } else if (name === 'transfer-encoding') {
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      } else if (name === 'connection') {
        conn = value.toLowerCase();
      }
    }
    if (chunked && length >= 0) throw new ProtocolError('both content-length and chunked');
    const tokens = conn.split(',').map((t) => t.trim());
    this.close = tokens.includes('close');
    this.keepAlive = tokens.includes('keep-alive');
    const noBody = this.status === 204 || this.status === 304;
    if (noBody || length === 0) this.state = State.Done;
    else if (chunked) this.state = State.ChunkSize;
    else if (length > 0) [this.state, this.remaining] = [State.Length, length];
    else this.state = State.UntilClose;
  }

  /** Consume body bytes from buf[off..]; returns the offset where the response ended. */
  private body(buf: Buffer, off: number): number {
    while (off < buf.length && this.state !== State.Done) {
      switch (this.state) {
        case State.Length:
        case State.ChunkData: {
          const n = Math.min(this.remaining, buf.length - off);
          this.bodyBytes += n;
          this.remaining -= n;
          off += n;
          if (this.remaining === 0) this.state = this.state === State.Length ? State.Done : State.ChunkCrlf;
          break;
        }
        case State.UntilClose:
          this.bodyBytes += buf.length - off;
          return buf.length;
        default:
          off = this.chunkLine(buf, off);
      }
    }
    return off;
  }

  /** Chunk-size lines, the CRLF after chunk data and trailer lines, which may span reads. */
  private chunkLine(buf: Buffer, off: number): number {
    const nl = buf.indexOf(10, off);
    const stop = nl < 0 ? buf.length : nl + 1;
    this.line += buf.toString('latin1', off, stop);
    if (this.line.length > 8192) throw new ProtocolError('chunk line too long');
    if (nl < 0) return stop;
    if (!this.line.endsWith('\r\n')) throw new ProtocolError('bare LF in chunked body');
    const line = this.line.slice(0, -2);
    this.line = '';
    if (this.state === State.ChunkCrlf) {
      if (line !== '') throw new ProtocolError('chunk longer than its size');
      this.state = State.ChunkSize;
    } else if (this.state === State.Trailers) {
      if (line === '') this.state = State.Done;
    } else {
      const size = /^([0-9a-fA-F]{1,8})\s*(?:;.*)?$/.exec(line);
      if (!size) throw new ProtocolError('bad chunk size');
      this.remaining = parseInt(size[1]!, 16);
      this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
    }
    return stop;
  }
}
