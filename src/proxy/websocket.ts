import http from 'node:http';
import type { Socket } from 'node:net';
import { GatewayError, toGatewayError } from '../errors/index.ts';
import { runOnResponse } from '../plugins/chain.ts';
import type { RequestContext, UpstreamRequest, UpstreamResponse } from '../runtime/context.ts';
import { HeaderList } from '../runtime/headers.ts';
import { cannotRespond, sendProblem } from '../runtime/respond.ts';
import type { Target, Upstream } from '../upstream/upstream.ts';
import { connectTo, targetOf } from './client/target.ts';
import type { ForwardInput } from './forward.ts';
import { forwardableResponseHeaders } from './headers.ts';
import { prepareUpstreamRequest, runUpstreamRequestPhase } from './prepare.ts';
import { addResponseVia } from './upstream-request.ts';
import { TunnelSet, WebSocketTunnel } from './websocket-tunnel.ts';

/** What the listener hands over with a WebSocket upgrade request. */
export interface UpgradeSocket {
  socket: Socket;
  /** Bytes after the request head (frames the client sent early). */
  head: Buffer;
  tunnels: TunnelSet;
}

/** RFC 9110 field-name token, and what a field value may never hold (response splitting). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const UNSAFE_VALUE = /[\r\n\0]/;

/**
 * The WebSocket forwarder: after route match and onRequest, pick a target like forward.ts, send the
 * upgrade request on a socket of its own (never a pooled keep-alive connection: the tunnel outlives
 * the snapshot and its pools), and either splice the two sockets on 101 or relay the refusal.
 */
export function forwardWebSocket(input: ForwardInput, up: UpgradeSocket, established: () => void, chosen?: Upstream): void {
  const prepared = prepareUpstreamRequest(input, chosen);
  if (prepared === undefined) return;
  const { upstream, target, request } = prepared;
  // Upgrade and Connection are hop-by-hop: this hop asks for the upgrade itself.
  request.headers.add('connection', 'Upgrade');
  request.headers.add('upgrade', 'websocket');
  const attempt = new UpgradeAttempt(input, upstream, target, up, established);
  runUpstreamRequestPhase(input, request, (r) => attempt.start(r));
}

/** Run onResponse (sync or async) on an upstream response head, then `then`. */
function afterOnResponse(input: ForwardInput, response: UpstreamResponse, then: () => void, fail: (e: GatewayError) => void): void {
  try {
    const pending = runOnResponse(input.route.chain, input.ctx, response);
    if (pending instanceof Promise) pending.then(then, (error: unknown) => fail(toGatewayError(error, 'SLUICE_ERR_PLUGIN_FAILED')));
    else then();
  } catch (error) {
    fail(toGatewayError(error, 'SLUICE_ERR_PLUGIN_FAILED'));
  }
}

/** One upgrade request to one target: connect, send, read the head, then tunnel or relay. */
class UpgradeAttempt {
  #request: http.ClientRequest | undefined;
  #connected = false;
  #connectTimedOut = false;
  #responseTimedOut = false;
  #settled = false;
  #sentAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly input: ForwardInput,
    private readonly upstream: Upstream,
    private readonly target: Target,
    private readonly up: UpgradeSocket,
    private readonly established: () => void,
  ) {}

  get ctx(): RequestContext {
    return this.input.ctx;
  }

  start(request: UpstreamRequest): void {
    const { ctx } = this;
    if (ctx.res.destroyed) return;
    const options = this.target.connectOptions;
    let socket: Socket;
    try {
      if (options === undefined) throw new Error('target has no connect options');
      socket = connectTo(targetOf(options));
    } catch (error) {
      return this.fail(new GatewayError('SLUICE_ERR_UPSTREAM_CONNECT', { detail: 'target does not speak HTTP/1.1', cause: error }));
    }
    this.#timer = setTimeout(() => {
      this.#connectTimedOut = true;
      socket.destroy();
    }, options.connectTimeoutMs);
    socket.once(options.origin.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      this.#connected = true;
      clearTimeout(this.#timer);
      const responseMs = this.input.route.responseTimeoutMs ?? this.upstream.responseTimeoutMs;
      if (responseMs > 0) {
        this.#timer = setTimeout(() => {
          this.#responseTimedOut = true;
          socket.destroy();
        }, responseMs);
      }
    });
    ctx.res.once('close', this.onClientClose);
    this.#sentAt = performance.now();
    try {
      // node's HTTP client writes the head and parses the reply; it never pools this socket.
      const req = http.request({ createConnection: () => socket, method: 'GET', path: request.path, headers: request.headers.raw, setHost: false });
      this.#request = req;
      req.on('error', this.onError);
      req.on('response', this.onResponse);
      req.on('upgrade', this.onUpgrade);
      req.end();
    } catch (error) {
      // A header an onUpstreamRequest plugin set with CR/LF/NUL.
      socket.destroy();
      this.fail(toGatewayError(error, 'SLUICE_ERR_BAD_REQUEST'));
    }
  }

  /** The response head arrived: no more timeouts; false when the attempt is already over. */
  private headArrived(): boolean {
    if (this.#settled) return false;
    clearTimeout(this.#timer);
    return true;
  }

  /** The attempt is over (relayed, tunnelled, failed or abandoned); false when it already was. */
  private settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.ctx.res.off('close', this.onClientClose);
    return true;
  }

  private fail(error: GatewayError): void {
    if (!this.settle()) return;
    this.upstream.series?.error(error);
    this.#request?.destroy();
    sendProblem(this.ctx, error);
  }

  private readonly onClientClose = (): void => {
    if (!this.settle()) return;
    this.ctx.error ??= new GatewayError('SLUICE_ERR_CLIENT_ABORTED');
    this.#request?.destroy();
    this.#upSocket?.destroy();
  };

  #upSocket: Socket | undefined;

  private readonly onError = (error: Error): void => {
    const code = !this.#connected
      ? this.#connectTimedOut
        ? 'SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT'
        : 'SLUICE_ERR_UPSTREAM_CONNECT'
      : this.#responseTimedOut
        ? 'SLUICE_ERR_UPSTREAM_TIMEOUT'
        : (error as { code?: string }).code?.startsWith('HPE_')
          ? 'SLUICE_ERR_UPSTREAM_BAD_RESPONSE'
          : 'SLUICE_ERR_UPSTREAM_RESET';
    this.fail(new GatewayError(code, { cause: error }));
  };

  private headOf(status: number, raw: string[]): UpstreamResponse {
    const upstreamMs = performance.now() - this.#sentAt;
    this.ctx.upstreamMs = upstreamMs;
    this.upstream.series?.response(status, upstreamMs / 1000);
    const headers = new HeaderList(forwardableResponseHeaders(raw));
    addResponseVia(headers, this.input.snapshot.proxy);
    return { status, headers };
  }

  /** Not 101: the upstream refused the upgrade (or does not speak WebSocket); relay its answer. */
  private readonly onResponse = (res: http.IncomingMessage): void => {
    if (!this.headArrived()) return void res.destroy();
    const response = this.headOf(res.statusCode ?? 502, res.rawHeaders);
    const client = this.ctx.res;
    afterOnResponse(
      this.input,
      response,
      () => {
        if (!this.settle() || cannotRespond(client)) return void res.destroy();
        const raw = response.headers.raw;
        for (const h of this.ctx.responseHeaders) raw.push(h);
        if (response.headers.has('date')) client.sendDate = false;
        this.ctx.status = response.status;
        client.writeHead(response.status, res.statusMessage, raw as unknown as http.OutgoingHttpHeaders);
        res.on('data', (chunk: Buffer) => {
          this.ctx.bytesSent += chunk.length;
          if (!client.write(chunk)) res.pause();
        });
        client.on('drain', () => res.resume());
        res.on('end', () => client.end());
        // A body that stalls or breaks is cut (the connection closes after this response anyway).
        const idleMs = this.input.route.bodyIdleTimeoutMs ?? this.upstream.bodyIdleTimeoutMs;
        if (idleMs > 0) res.setTimeout(idleMs, () => res.destroy());
        res.on('close', () => {
          if (!res.complete) client.destroy();
        });
      },
      (error) => {
        res.destroy();
        this.fail(error);
      },
    );
  };

  private readonly onUpgrade = (res: http.IncomingMessage, upSocket: Socket, upHead: Buffer): void => {
    if (!this.headArrived()) return void upSocket.destroy();
    if (!/\bwebsocket\b/i.test(res.headers.upgrade ?? '')) {
      upSocket.destroy();
      return this.fail(new GatewayError('SLUICE_ERR_UPSTREAM_BAD_RESPONSE', { detail: 'upstream switched to another protocol' }));
    }
    const response = this.headOf(101, res.rawHeaders);
    upSocket.on('error', () => {});
    // The upstream socket is ours now: onClientClose no longer reaches it through the request.
    this.#upSocket = upSocket;
    afterOnResponse(
      this.input,
      response,
      () => {
        if (this.settle()) this.splice(response, res.statusMessage ?? 'Switching Protocols', upSocket, upHead);
      },
      (error) => {
        upSocket.destroy();
        this.fail(error);
      },
    );
  };

  /** Send the 101 head to the client and join the two sockets. */
  private splice(response: UpstreamResponse, statusText: string, upSocket: Socket, upHead: Buffer): void {
    const { ctx, up } = this;
    const client = up.socket;
    if (client.destroyed || upSocket.destroyed) {
      upSocket.destroy();
      client.destroy();
      return;
    }
    // Written by hand (node writes no 101 for us): headers a plugin set are checked like writeHead would.
    let head = `HTTP/1.1 101 ${statusText}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n`;
    for (const list of [response.headers.raw, ctx.responseHeaders]) {
      for (let i = 0; i < list.length; i += 2) {
        const name = list[i]!;
        const value = list[i + 1]!;
        if (TOKEN.test(name) && !UNSAFE_VALUE.test(value)) head += `${name}: ${value}\r\n`;
      }
    }
    client.write(`${head}\r\n`, 'latin1');
    ctx.status = 101;
    // The handshake is a finished request for metrics; the tunnel needs no routes or plugins any more.
    this.established();
    const { route } = this.input;
    const target = this.target;
    target.inflight++;
    route.series?.websocket(1);
    const tunnel = new WebSocketTunnel({
      client,
      upstream: upSocket,
      clientHead: up.head,
      upstreamHead: upHead,
      policy: route.websocket!,
      route: route.info.name,
      counters: ctx,
      onClose: (t) => {
        up.tunnels.delete(t);
        target.inflight--;
        route.series?.websocket(-1);
      },
    });
    up.tunnels.add(tunnel);
  }
}
