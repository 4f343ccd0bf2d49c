import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A small fault-injecting TCP proxy for tests, placed between the gateway and a real upstream
 * (the gateway's target URL points at `proxy.url`). Faults are switched at runtime and apply to
 * connections already open as well as new ones; `heal()` clears them all.
 *
 * Everything is streamed chunk by chunk with backpressure: a slowed direction pauses its source
 * socket, so a fault never makes the proxy buffer more than one read chunk per direction.
 * Loopback only (listens on 127.0.0.1).
 */

/** down = upstream → client (responses), up = client → upstream (requests). */
export type Direction = 'up' | 'down' | 'both';

export interface LatencyOptions {
  /** `chunk` (default): every chunk is held `ms` before it is forwarded; `connect`: the upstream connection is opened `ms` late. */
  on?: 'chunk' | 'connect';
  /** Chunk latency only; default 'down'. */
  direction?: Direction;
  /** Adds 0..jitterMs at random to each delay. */
  jitterMs?: number;
}

export interface FaultStats {
  /** Connections accepted from clients (refused ones included). */
  connections: number;
  /** Connections open now. */
  active: number;
  /** Connections refused with an RST (refuse('reset')). */
  refused: number;
  /** Connections cut with an RST by resetAfter() or resetConnections(). */
  resets: number;
  /** Bytes forwarded client → upstream and upstream → client. */
  bytesUp: number;
  bytesDown: number;
  /** Bytes dropped while blackholed. */
  bytesDropped: number;
  /** Largest chunk the proxy held at once while delaying or throttling (the buffering bound). */
  peakHeld: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  readonly stats: FaultStats;
  latency(ms: number, options?: LatencyOptions): void;
  /** Limit each selected direction to `bytesPerSecond` (per connection); default both directions. */
  bandwidth(bytesPerSecond: number, direction?: Direction): void;
  /** Cut every connection with an RST once `bytes` more bytes went through in `direction` (default 'down'). */
  resetAfter(bytes: number, direction?: Exclude<Direction, 'both'>): void;
  /** Accept but never answer: data in both directions is dropped, sockets stay open. */
  blackhole(): void;
  /**
   * Stop accepting: 'reset' (default) answers new connections with an RST, 'close' closes the
   * listener so connects are refused by the OS (ECONNREFUSED); heal() listens again on the same port.
   */
  refuse(mode?: 'reset' | 'close'): Promise<void>;
  /** RST every open connection now (a target process dying). */
  resetConnections(): void;
  /** Clear every fault; reopen the listener if refuse('close') closed it. */
  heal(): Promise<void>;
  close(): Promise<void>;
}

interface Faults {
  latencyMs: number;
  jitterMs: number;
  latencyOn: 'chunk' | 'connect';
  latencyDir: Direction;
  bytesPerSecond: number;
  bandwidthDir: Direction;
  resetAfter: number;
  resetDir: 'up' | 'down';
  /** Bumped on every resetAfter() so each connection counts from that moment. */
  resetEpoch: number;
  blackhole: boolean;
  refuse: 'reset' | 'close' | undefined;
}

const NONE = (): Faults => ({
  latencyMs: 0,
  jitterMs: 0,
  latencyOn: 'chunk',
  latencyDir: 'down',
  bytesPerSecond: 0,
  bandwidthDir: 'both',
  resetAfter: -1,
  resetDir: 'down',
  resetEpoch: 0,
  blackhole: false,
  refuse: undefined,
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const applies = (selected: Direction, dir: 'up' | 'down') => selected === 'both' || selected === dir;

/** RST when the runtime can (Node ≥ 18.3), else a plain destroy (FIN). */
export function rst(socket: net.Socket): void {
  if (socket.destroyed) return;
  const reset = (socket as { resetAndDestroy?: () => void }).resetAndDestroy;
  if (typeof reset === 'function') reset.call(socket);
  else socket.destroy();
}

interface Conn {
  client: net.Socket;
  upstream: net.Socket;
  epoch: [number, number];
  counted: [number, number];
}

export async function startFaultProxy(target: string | { host: string; port: number }): Promise<FaultProxy> {
  const to = typeof target === 'string' ? (() => {
    const u = new URL(target);
    return { host: u.hostname, port: Number(u.port) };
  })() : target;
  let faults = NONE();
  const stats: FaultStats = { connections: 0, active: 0, refused: 0, resets: 0, bytesUp: 0, bytesDown: 0, bytesDropped: 0, peakHeld: 0 };
  const conns = new Set<Conn>();

  const cut = (conn: Conn) => {
    stats.resets++;
    rst(conn.client);
    conn.upstream.destroy();
  };

  /** Write with backpressure: resolves once `dst` can take more. */
  const write = (dst: net.Socket, chunk: Buffer) =>
    new Promise<void>((resolve) => {
      if (dst.destroyed || dst.write(chunk)) return resolve();
      const done = () => {
        dst.off('drain', done);
        dst.off('close', done);
        resolve();
      };
      dst.on('drain', done);
      dst.on('close', done);
    });

  /** Everything a chunk goes through on its way; returns false once the connection was cut. */
  const deliver = async (conn: Conn, dir: 'up' | 'down', dst: net.Socket, chunk: Buffer): Promise<boolean> => {
    const f = faults;
    if (f.latencyMs > 0 && f.latencyOn === 'chunk' && applies(f.latencyDir, dir)) {
      stats.peakHeld = Math.max(stats.peakHeld, chunk.length);
      await sleep(f.latencyMs + Math.random() * f.jitterMs);
    }
    if (faults.blackhole) {
      stats.bytesDropped += chunk.length;
      return true;
    }
    const i = dir === 'up' ? 0 : 1;
    let cutAt = -1;
    if (faults.resetAfter >= 0 && faults.resetDir === dir) {
      if (conn.epoch[i] !== faults.resetEpoch) {
        conn.epoch[i] = faults.resetEpoch;
        conn.counted[i] = 0;
      }
      const left = faults.resetAfter - conn.counted[i]!;
      if (left < chunk.length) {
        cutAt = Math.max(0, left);
        chunk = chunk.subarray(0, cutAt);
      }
      conn.counted[i]! += chunk.length;
    }
    const rate = faults.bytesPerSecond > 0 && applies(faults.bandwidthDir, dir) ? faults.bytesPerSecond : 0;
    if (rate > 0) stats.peakHeld = Math.max(stats.peakHeld, chunk.length);
    // Throttled: slices of ~50 ms worth, each followed by its share of time.
    const slice = rate > 0 ? Math.max(1, Math.floor(rate / 20)) : chunk.length;
    for (let off = 0; off < chunk.length; off += slice) {
      const part = chunk.subarray(off, off + slice);
      if (dir === 'up') stats.bytesUp += part.length;
      else stats.bytesDown += part.length;
      await write(dst, part);
      if (rate > 0) await sleep((part.length / rate) * 1000);
    }
    if (cutAt >= 0) {
      // Let the bytes already written reach the peer before the RST discards the send queue.
      await sleep(5);
      cut(conn);
      return false;
    }
    return true;
  };

  const pump = (conn: Conn, dir: 'up' | 'down', src: net.Socket, dst: net.Socket) => {
    src.on('data', (chunk: Buffer) => {
      const f = faults;
      const fast = !f.blackhole && f.resetAfter < 0 && f.bytesPerSecond === 0 && !(f.latencyMs > 0 && f.latencyOn === 'chunk');
      if (fast) {
        if (dir === 'up') stats.bytesUp += chunk.length;
        else stats.bytesDown += chunk.length;
        if (!dst.write(chunk)) {
          src.pause();
          dst.once('drain', () => src.resume());
        }
        return;
      }
      // One chunk at a time: the source stays paused until this one is through.
      src.pause();
      deliver(conn, dir, dst, chunk).then((open) => {
        if (open && !src.destroyed) src.resume();
      }, () => cut(conn));
    });
    src.on('end', () => {
      if (!faults.blackhole) dst.end();
    });
  };

  const onConnection = (client: net.Socket) => {
    stats.connections++;
    client.on('error', () => {});
    if (faults.refuse === 'reset') {
      stats.refused++;
      return rst(client);
    }
    stats.active++;
    client.pause();
    const upstream = new net.Socket();
    upstream.on('error', () => {});
    const conn: Conn = { client, upstream, epoch: [faults.resetEpoch, faults.resetEpoch], counted: [0, 0] };
    conns.add(conn);
    client.once('close', () => {
      conns.delete(conn);
      stats.active--;
      upstream.destroy();
    });
    // An upstream that fails or goes away takes the client connection with it, as a real one would.
    upstream.once('close', (hadError) => (hadError ? rst(client) : client.destroySoon()));
    const connect = () => {
      if (client.destroyed) return;
      upstream.connect(to.port, to.host, () => {
        pump(conn, 'up', client, upstream);
        pump(conn, 'down', upstream, client);
        client.resume();
      });
    };
    const f = faults;
    if (f.latencyMs > 0 && f.latencyOn === 'connect') setTimeout(connect, f.latencyMs + Math.random() * f.jitterMs);
    else connect();
  };

  const listen = (port: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer(onConnection);
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  // A closed listener is replaced by a new one on the same port (heal after refuse('close')).
  let server: net.Server | undefined = await listen(0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    latency(ms, options = {}) {
      faults = { ...faults, latencyMs: ms, latencyOn: options.on ?? 'chunk', latencyDir: options.direction ?? 'down', jitterMs: options.jitterMs ?? 0 };
    },
    bandwidth(bytesPerSecond, direction = 'both') {
      faults = { ...faults, bytesPerSecond, bandwidthDir: direction };
    },
    resetAfter(bytes, direction = 'down') {
      faults = { ...faults, resetAfter: bytes, resetDir: direction, resetEpoch: faults.resetEpoch + 1 };
    },
    blackhole() {
      faults = { ...faults, blackhole: true };
    },
    async refuse(mode = 'reset') {
      faults = { ...faults, refuse: mode };
      if (mode === 'close' && server !== undefined) {
        // Stops accepting at once; open connections keep going (close() waits only for its callback).
        server.close();
        server = undefined;
      }
    },
    resetConnections() {
      for (const conn of conns) cut(conn);
    },
    async heal() {
      faults = { ...NONE(), resetEpoch: faults.resetEpoch };
      server ??= await listen(port);
    },
    async close() {
      faults = NONE();
      for (const conn of conns) {
        conn.client.destroy();
        conn.upstream.destroy();
      }
      const last = server;
      server = undefined;
      if (last !== undefined) await new Promise<void>((resolve) => last.close(() => resolve()));
    },
  };
}
