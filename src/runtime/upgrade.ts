import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { GatewayError } from '../errors/index.ts';
import { forwardWebSocket } from '../proxy/websocket.ts';
import type { TunnelSet } from '../proxy/websocket-tunnel.ts';
import { handleRequest, type ListenerRuntime, type PipelineHost, type UpgradeForwarder } from './pipeline.ts';

/** Sec-WebSocket-Key: base64 of 16 bytes (RFC 6455 §4.1). */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const t of value.split(',')) if (t.trim().toLowerCase() === token) return true;
  return false;
}

function handshakeProblem(req: IncomingMessage): GatewayError | undefined {
  const bad = (detail: string, headers?: Record<string, string>) => new GatewayError('SLUICE_ERR_WEBSOCKET_HANDSHAKE', { detail, ...(headers ? { headers } : {}) });
  if (req.method !== 'GET') return bad('a WebSocket upgrade must be a GET');
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor < 1) return bad('a WebSocket upgrade needs HTTP/1.1');
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY.test(key.trim())) return bad('missing or malformed Sec-WebSocket-Key');
  // RFC 6455 §4.4: tell the client which version we speak.
  if (req.headers['sec-websocket-version']?.trim() !== '13') return bad('unsupported Sec-WebSocket-Version', { 'sec-websocket-version': '13' });
  return undefined;
}

class WebSocketUpgrade implements UpgradeForwarder {
  constructor(
    private readonly req: IncomingMessage,
    private readonly socket: Socket,
    private readonly head: Buffer,
    private readonly tunnels: TunnelSet,
  ) {}

  check(): GatewayError | undefined {
    return handshakeProblem(this.req);
  }

  /**
   * Admission (breakers, limits, overload shedding) as for any request; a tunnel holds its
   * concurrency slot until it closes (the response's 'close' is the socket's).
   */
  forward(input: Parameters<UpgradeForwarder['forward']>[0], established: () => void): void {
    const up = { socket: this.socket, head: this.head, tunnels: this.tunnels };
    const gate = input.route.admission;
    if (gate === undefined) return forwardWebSocket(input, up, established);
    gate.admit(input.ctx, input.route.pickUpstream, (upstream) => forwardWebSocket(input, up, established, upstream));
  }
}

/** An upgrade to something else, with a request body node did not frame for us: refused, never forwarded. */
const REFUSED: UpgradeForwarder = {
  check: () => new GatewayError('SLUICE_ERR_UPGRADE_NOT_ALLOWED', { detail: 'only WebSocket upgrades are proxied' }),
  forward: () => undefined,
};

/**
 * Entry point for the listener's 'upgrade' event (node emits it for every request with
 * `Connection: upgrade` + `Upgrade` once someone listens). A ServerResponse bound to the raw socket
 * lets the pipeline answer refusals as ordinary problem+json responses; the connection then closes.
 *
 * `Upgrade: websocket` is routed and tunnelled. Other tokens (h2c from `curl --http2`, TLS/1.0 …)
 * are optional for a server to honour (RFC 9110 §7.8): without a body the request is served as a
 * plain HTTP/1.1 request (Upgrade is hop-by-hop and dropped), as before; with one it is refused 400,
 * because node stopped parsing at the head and forwarding unframed bytes would invite smuggling.
 */
export function handleUpgrade(host: PipelineHost, listener: ListenerRuntime, tunnels: TunnelSet, req: IncomingMessage, duplex: Duplex, head: Buffer): void {
  const socket = duplex as Socket;
  // Errors end in 'close', which the response and tunnel act on.
  socket.on('error', () => {});
  const res = new ServerResponse(req);
  res.assignSocket(socket);
  res.shouldKeepAlive = false;
  // A response (refusal, relayed upstream answer) ends the connection once written.
  res.once('finish', () => socket.destroySoon());
  if (hasToken(req.headers.upgrade, 'websocket')) {
    handleRequest(host, listener, req, res, new WebSocketUpgrade(req, socket, head, tunnels));
    return;
  }
  const withBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  handleRequest(host, listener, req, res, withBody ? REFUSED : undefined);
}
