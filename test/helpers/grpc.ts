import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/** The test Echo service (test/fixtures/grpc/echo.proto) on a real @grpc/grpc-js server. */

const PROTO = fileURLToPath(new URL('../fixtures/grpc/echo.proto', import.meta.url));
export const definition = protoLoader.loadSync(PROTO, { longs: Number, defaults: true, bytes: Buffer });
const loaded = grpc.loadPackageDefinition(definition) as unknown as { sluice: { test: { Echo: grpc.ServiceClientConstructor } } };
export const EchoClient = loaded.sluice.test.Echo;
export const echoService = EchoClient.service;

export interface EchoRequest {
  message?: string;
  count?: number;
  payload?: Buffer;
  delayMs?: number;
  failCode?: number;
  replyBytes?: number;
}
export interface EchoReply {
  message: string;
  index: number;
  payload: Buffer;
  server: string;
  deadline: string;
}

export const serializeRequest = (r: EchoRequest): Buffer => echoService.Unary!.requestSerialize(r);
export const deserializeReply = (b: Buffer): EchoReply => echoService.Unary!.responseDeserialize(b) as EchoReply;

export interface GrpcTestServer {
  port: number;
  /** h2c:// URL for gateway targets. */
  url: string;
  /** Calls received, by method name. */
  calls: Record<string, number>;
  /** Calls the client cancelled (the server saw 'cancelled'). */
  cancelled: number;
  /** Request metadata of the last call. */
  lastMetadata: grpc.Metadata | undefined;
  /** Budget (ms) the last call's grpc-timeout gave the server; undefined when it had none. */
  lastDeadlineMs: number | undefined;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startGrpcServer(name = 'server'): Promise<GrpcTestServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 << 20, 'grpc.max_send_message_length': 16 << 20 });
  const state: GrpcTestServer = { port: 0, url: '', calls: {}, cancelled: 0, lastMetadata: undefined, lastDeadlineMs: undefined, close: async () => {} };
  const count = (method: string, call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline }) => {
    state.calls[method] = (state.calls[method] ?? 0) + 1;
    state.lastMetadata = call.metadata;
    const deadline = call.getDeadline();
    state.lastDeadlineMs = deadline instanceof Date ? deadline.getTime() - Date.now() : deadline === Infinity ? undefined : deadline - Date.now();
  };
  // grpc-js consumes grpc-timeout itself (it is not metadata): report the deadline it derived.
  const deadlineOf = (call: { getDeadline(): grpc.Deadline }) => {
    const d = call.getDeadline();
    return d === Infinity ? '' : String((d instanceof Date ? d.getTime() : d) - Date.now());
  };
  const fail = (code: number) => ({ code, details: `failed on purpose: ${code} ✓`, metadata: trailer() });
  const trailer = () => {
    const md = new grpc.Metadata();
    md.set('x-trailer', 'bye');
    return md;
  };
  server.addService(echoService, {
    async Unary(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      count('Unary', call);
      call.on('cancelled', () => state.cancelled++);
      const req = call.request;
      const initial = new grpc.Metadata();
      initial.set('x-reply', `re:${String(call.metadata.get('x-test')[0] ?? '')}`);
      call.sendMetadata(initial);
      if (req.delayMs) await sleep(req.delayMs);
      if (call.cancelled) return;
      if (req.failCode) return callback(fail(req.failCode));
      callback(null, { message: req.message ?? '', index: 0, payload: req.payload ?? Buffer.alloc(0), server: name, deadline: deadlineOf(call) }, trailer());
    },
    async ServerStream(call: grpc.ServerWritableStream<EchoRequest, EchoReply>) {
      count('ServerStream', call);
      call.on('cancelled', () => state.cancelled++);
      const req = call.request;
      for (let i = 0; i < (req.count ?? 0); i++) {
        if (req.delayMs) await sleep(req.delayMs);
        if (call.cancelled) return;
        call.write({ message: req.message ?? '', index: i, payload: Buffer.alloc(req.replyBytes ?? 0, i % 256), server: name, deadline: deadlineOf(call) });
      }
      if (req.failCode) return call.emit('error', fail(req.failCode));
      call.end(trailer());
    },
    ClientStream(call: grpc.ServerReadableStream<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      count('ClientStream', call);
      const messages: string[] = [];
      let bytes = 0;
      call.on('data', (r: EchoRequest) => {
        messages.push(r.message ?? '');
        bytes += r.payload?.length ?? 0;
      });
      call.on('end', () => callback(null, { message: messages.join(','), index: bytes, payload: Buffer.alloc(0), server: name, deadline: '' }, trailer()));
    },
    Bidi(call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) {
      count('Bidi', call);
      let i = 0;
      call.on('data', (r: EchoRequest) => call.write({ message: r.message ?? '', index: i++, payload: r.payload ?? Buffer.alloc(0), server: name, deadline: '' }));
      call.on('end', () => call.end(trailer()));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  state.port = port;
  state.url = `h2c://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.forceShutdown();
      resolve();
    });
  return state;
}

/** A gRPC-Web request body: one length-prefixed message frame. */
export function webFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

export interface WebResponse {
  messages: Buffer[];
  /** Trailers from the in-body trailer frame (lower-case names). */
  trailers: Record<string, string>;
}

/** Split a (decoded) gRPC-Web response body into message frames and the trailer frame. */
export function parseWebBody(body: Buffer): WebResponse {
  const messages: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let at = 0;
  while (at + 5 <= body.length) {
    const flag = body[at]!;
    const len = body.readUInt32BE(at + 1);
    const payload = body.subarray(at + 5, at + 5 + len);
    at += 5 + len;
    if ((flag & 0x80) === 0) messages.push(payload);
    else {
      for (const line of payload.toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) trailers[line.slice(0, i)] = line.slice(i + 1).trim();
      }
    }
  }
  if (at !== body.length) throw new Error(`trailing ${body.length - at} bytes in gRPC-Web body`);
  return { messages, trailers };
}

/** Decode a grpc-web-text body: concatenated padded base64 segments. */
export function decodeWebText(text: string): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i += 4) {
    if (text[i + 3] === '=') {
      parts.push(Buffer.from(text.slice(start, i + 4), 'base64'));
      start = i + 4;
    }
  }
  parts.push(Buffer.from(text.slice(start), 'base64'));
  return Buffer.concat(parts);
}
