// Decoders for OTLP/HTTP trace export requests (ExportTraceServiceRequest), protobuf and JSON,
// into flat spans for tests. The protobuf reader is written against the field numbers of
// opentelemetry/proto/{collector/trace,trace,common,resource}/v1 rather than reusing the SDK's
// serializer internals, so it checks the exporter independently.

export type AttrValue = string | number | boolean | bigint | Uint8Array | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

export interface DecodedSpan {
  /** 32 lower-case hex. */
  traceId: string;
  /** 16 lower-case hex. */
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
  /** OTLP span flags: W3C trace flags in the low byte, remote-parent bits above. */
  flags: number;
  resource: Attributes;
  scope: { name: string; version: string };
}

export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
export const STATUS_CODE = { UNSET: 0, OK: 1, ERROR: 2 } as const;

// ---- protobuf -----------------------------------------------------------------------------

class Reader {
  pos = 0;
  readonly #view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  }
  uint(): number {
    return Number(this.varint());
  }
  fixed64(): bigint {
    return this.#view.getBigUint64(this.#take(8), true);
  }
  double(): number {
    return this.#view.getFloat64(this.#take(8), true);
  }
  fixed32(): number {
    return this.#view.getUint32(this.#take(4), true);
  }
  bytes(): Uint8Array {
    const len = this.uint();
    const start = this.#take(len);
    return this.buf.subarray(start, start + len);
  }
  string(): string {
    return new TextDecoder().decode(this.bytes());
  }
  /** Next tag as [field number, wire type]. */
  tag(): [number, number] {
    const t = this.uint();
    return [t >>> 3, t & 7];
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.#take(8);
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.#take(4);
    else throw new Error(`unsupported wire type ${wireType}`);
  }
  #take(n: number): number {
    if (this.pos + n > this.buf.length) throw new Error('truncated message');
    const start = this.pos;
    this.pos += n;
    return start;
  }
}

/** Calls `field` for each field of the message; it returns false for the ones it did not read. */
function eachField(buf: Uint8Array, field: (r: Reader, no: number, wireType: number) => boolean): void {
  const r = new Reader(buf);
  while (!r.done) {
    const [no, wt] = r.tag();
    if (!field(r, no, wt)) r.skip(wt);
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function pbAnyValue(buf: Uint8Array): AttrValue {
  let value: AttrValue = null;
  eachField(buf, (r, no) => {
    switch (no) {
      case 1: value = r.string(); return true;
      case 2: value = r.varint() !== 0n; return true;
      case 3: {
        const v = BigInt.asIntN(64, r.varint());
        value = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
        return true;
      }
      case 4: value = r.double(); return true;
      case 5: {
        const items: AttrValue[] = [];
        eachField(r.bytes(), (ar, ano) => (ano === 1 ? (items.push(pbAnyValue(ar.bytes())), true) : false));
        value = items;
        return true;
      }
      case 6: {
        const kv: Attributes = {};
        eachField(r.bytes(), (kr, kno) => (kno === 1 ? (pbKeyValue(kr.bytes(), kv), true) : false));
        value = kv;
        return true;
      }
      case 7: value = r.bytes().slice(); return true;
      default: return false;
    }
  });
  return value;
}

function pbKeyValue(buf: Uint8Array, into: Attributes): void {
  let key = '';
  let value: AttrValue = null;
  eachField(buf, (r, no) => {
    if (no === 1) key = r.string();
    else if (no === 2) value = pbAnyValue(r.bytes());
    else return false;
    return true;
  });
  into[key] = value;
}

function pbResource(buf: Uint8Array): Attributes {
  const attrs: Attributes = {};
  eachField(buf, (r, no) => (no === 1 ? (pbKeyValue(r.bytes(), attrs), true) : false));
  return attrs;
}

function pbScope(buf: Uint8Array): { name: string; version: string } {
  const scope = { name: '', version: '' };
  eachField(buf, (r, no) => {
    if (no === 1) scope.name = r.string();
    else if (no === 2) scope.version = r.string();
    else return false;
    return true;
  });
  return scope;
}

function pbSpan(buf: Uint8Array, resource: Attributes, scope: DecodedSpan['scope']): DecodedSpan {
  const s: DecodedSpan = {
    traceId: '', spanId: '', parentSpanId: '', traceState: '', name: '', kind: 0,
    startTimeUnixNano: 0n, endTimeUnixNano: 0n, attributes: {}, statusCode: 0, statusMessage: '', flags: 0, resource, scope,
  };
  eachField(buf, (r, no) => {
    switch (no) {
      case 1: s.traceId = hex(r.bytes()); return true;
      case 2: s.spanId = hex(r.bytes()); return true;
      case 3: s.traceState = r.string(); return true;
      case 4: s.parentSpanId = hex(r.bytes()); return true;
      case 5: s.name = r.string(); return true;
      case 6: s.kind = r.uint(); return true;
      case 7: s.startTimeUnixNano = r.fixed64(); return true;
      case 8: s.endTimeUnixNano = r.fixed64(); return true;
      case 9: pbKeyValue(r.bytes(), s.attributes); return true;
      case 15:
        eachField(r.bytes(), (sr, sno) => {
          if (sno === 2) s.statusMessage = sr.string();
          else if (sno === 3) s.statusCode = sr.uint();
          else return false;
          return true;
        });
        return true;
      case 16: s.flags = r.fixed32(); return true;
      default: return false; // counts, events, links: not needed by the tests
    }
  });
  return s;
}

/** ExportTraceServiceRequest (protobuf) → spans. Throws on malformed input. */
export function decodeProtobufTraces(buf: Uint8Array): DecodedSpan[] {
  const out: DecodedSpan[] = [];
  eachField(buf, (r, no) => {
    if (no !== 1) return false;
    // ResourceSpans: the resource may come after its scope spans on the wire, so collect first.
    let resource: Attributes = {};
    const scopeSpans: Uint8Array[] = [];
    eachField(r.bytes(), (rr, rno) => {
      if (rno === 1) resource = pbResource(rr.bytes());
      else if (rno === 2) scopeSpans.push(rr.bytes());
      else return false;
      return true;
    });
    for (const ss of scopeSpans) {
      let scope = { name: '', version: '' };
      const spans: Uint8Array[] = [];
      eachField(ss, (sr, sno) => {
        if (sno === 1) scope = pbScope(sr.bytes());
        else if (sno === 2) spans.push(sr.bytes());
        else return false;
        return true;
      });
      for (const span of spans) out.push(pbSpan(span, resource, scope));
    }
    return true;
  });
  return out;
}

// ---- JSON ---------------------------------------------------------------------------------

type J = Record<string, unknown>;
const obj = (v: unknown): J => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as J) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0);
const big = (v: unknown): bigint => (typeof v === 'number' || (typeof v === 'string' && v !== '') ? BigInt(v) : 0n);
// OTLP/JSON carries ids as hex; tolerate base64 (the protobuf JSON mapping) from other senders.
const jsonId = (v: unknown, len: number): string => {
  const s = str(v);
  return s === '' || /^[0-9a-f]+$/i.test(s) ? s.toLowerCase() : Buffer.from(s, 'base64').toString('hex').padStart(len, '0');
};

function jsonAnyValue(v: unknown): AttrValue {
  const o = obj(v);
  if ('stringValue' in o) return str(o.stringValue);
  if ('boolValue' in o) return o.boolValue === true;
  if ('intValue' in o) {
    const b = big(o.intValue);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }
  if ('doubleValue' in o) return num(o.doubleValue);
  if ('arrayValue' in o) return arr(obj(o.arrayValue).values).map(jsonAnyValue);
  if ('kvlistValue' in o) return jsonAttributes(obj(o.kvlistValue).values);
  if ('bytesValue' in o) return new Uint8Array(Buffer.from(str(o.bytesValue), 'base64'));
  return null;
}

function jsonAttributes(list: unknown): Attributes {
  const out: Attributes = {};
  for (const kv of arr(list)) out[str(obj(kv).key)] = jsonAnyValue(obj(kv).value);
  return out;
}

/** ExportTraceServiceRequest (OTLP/JSON) → spans. */
export function decodeJsonTraces(body: unknown): DecodedSpan[] {
  const out: DecodedSpan[] = [];
  for (const rs of arr(obj(body).resourceSpans)) {
    const resource = jsonAttributes(obj(obj(rs).resource).attributes);
    for (const ss of arr(obj(rs).scopeSpans)) {
      const sc = obj(obj(ss).scope);
      const scope = { name: str(sc.name), version: str(sc.version) };
      for (const sp of arr(obj(ss).spans)) {
        const s = obj(sp);
        const status = obj(s.status);
        out.push({
          traceId: jsonId(s.traceId, 32),
          spanId: jsonId(s.spanId, 16),
          parentSpanId: jsonId(s.parentSpanId, 16),
          traceState: str(s.traceState),
          name: str(s.name),
          kind: num(s.kind),
          startTimeUnixNano: big(s.startTimeUnixNano),
          endTimeUnixNano: big(s.endTimeUnixNano),
          attributes: jsonAttributes(s.attributes),
          statusCode: num(status.code),
          statusMessage: str(status.message),
          flags: num(s.flags),
          resource,
          scope,
        });
      }
    }
  }
  return out;
}
