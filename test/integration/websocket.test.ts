import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { hasOpenssl, TestCa } from '../../src/server/test-helpers.ts';
import { rawRequest, request, startGateway, type TestGateway } from '../helpers/servers.ts';

const TENANT_GATE = fileURLToPath(new URL('../fixtures/plugins/tenant-gate.mjs', import.meta.url));
const MiB = 1024 * 1024;

interface WsUpstream {
  url: string;
  port: number;
  /** Close code and reason each upstream-side socket saw, in order of closing. */
  closes: Array<{ code: number; reason: string }>;
  /** Request heads the upstream received for upgrades. */
  heads: http.IncomingHttpHeaders[];
  sockets: Set<WebSocket>;
  close(): Promise<void>;
}

/**
 * A real WebSocket upstream (the ws package): /echo echoes every message with its type, /close/<code>
 * closes with that code after the first message, /refuse answers 403, anything else gets plain HTTP.
 */
async function startWsUpstream(tlsOptions?: { cert: string; key: string }): Promise<WsUpstream> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * MiB });
  const closes: WsUpstream['closes'] = [];
  const heads: WsUpstream['heads'] = [];
  const sockets = new Set<WebSocket>();
  const create = tlsOptions === undefined ? http.createServer : (handler: http.RequestListener) => https.createServer(tlsOptions, handler);
  const server = create((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`plain ${req.url} upgrade=${req.headers.upgrade ?? ''}`);
  });
  server.on('upgrade', (req, socket, head) => {
    heads.push(req.headers);
    if (req.url === '/plain') {
      // Not a WebSocket endpoint: a plain HTTP answer to the upgrade request.
      const body = `plain ${req.url} upgrade=${req.headers.upgrade ?? ''}`;
      socket.end(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      return;
    }
    if (req.url === '/hang') {
      // Never answers the upgrade; hangs up when the gateway does.
      socket.on('end', () => socket.destroy());
      return;
    }
    if (req.url === '/refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 7\r\nx-upstream: yes\r\nconnection: close\r\n\r\nno way!');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', (code, reason) => {
        sockets.delete(ws);
        closes.push({ code, reason: reason.toString() });
      });
      const closeWith = /^\/close\/(\d+)$/.exec(req.url ?? '');
      ws.on('message', (data: RawData, isBinary) => {
        if (closeWith) ws.close(Number(closeWith[1]), 'upstream says bye');
        else ws.send(data, { binary: isBinary });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tlsOptions === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    closes,
    heads,
    sockets,
    close: () =>
      new Promise((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Refusal {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Open a client WebSocket; rejects with the HTTP response when the upgrade is refused. */
function connect(url: string, headers: Record<string, string> = {}, tlsOptions: { ca?: string; servername?: string } = {}, protocols: string[] = []): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, maxPayload: 64 * MiB, handshakeTimeout: 5000, ...tlsOptions });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`refused ${res.statusCode}`), { refusal: { status: res.statusCode!, headers: res.headers, body } })));
    });
    ws.once('error', reject);
  });
}

async function refusalOf(url: string, headers: Record<string, string> = {}, tlsOptions: { ca?: string; servername?: string } = {}): Promise<Refusal> {
  try {
    const ws = await connect(url, headers, tlsOptions);
    ws.terminate();
  } catch (error) {
    const refusal = (error as { refusal?: Refusal }).refusal;
    if (refusal !== undefined) return refusal;
    throw error;
  }
  throw new Error('the upgrade was accepted');
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data: RawData, binary) => resolve({ data: data as Buffer, binary }));
    ws.once('close', (code) => reject(new Error(`closed ${code} before a message`)));
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve({ code: -1, reason: 'already closed' });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function routes(upstream = 'ws', dead = true) {
  return [
    { name: 'echo', match: { paths: ['/echo', '/close/:code', '/refuse', '/plain'] }, upstream },
    { name: 'small', match: { paths: ['/small/*'] }, upstream, rewrite: { path: '/echo' }, websocket: { maxMessageSize: '1kb' } },
    { name: 'idle', match: { paths: ['/idle/*'] }, upstream, rewrite: { path: '/echo' }, websocket: { idleTimeout: '1s' } },
    { name: 'no-ws', match: { paths: ['/no-ws'] }, upstream, rewrite: { path: '/echo' }, websocket: { enabled: false } },
    { name: 'gated', match: { paths: ['/gated/*'] }, upstream, rewrite: { path: '/echo' }, plugins: { 'tenant-gate': { tenant: 'acme' } } },
    { name: 'hang', match: { paths: ['/hang'] }, upstream, timeouts: { response: '300ms' } },
    ...(dead ? [{ name: 'dead', match: { paths: ['/dead'] }, upstream: 'dead' }] : []),
  ];
}

describe('WebSocket proxying', () => {
  let up: WsUpstream;
  let gw: TestGateway;
  let ws: string;
  let dir: string;
  let admin: string;
  let deadPort: number;

  before(async () => {
    up = await startWsUpstream();
    dir = await mkdtemp(join(tmpdir(), 'sluice-ws-'));
    // A port that refuses connections: bound, then closed.
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    deadPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    gw = await startGateway({
      admin: { host: '127.0.0.1', port: 0, stateDir: dir },
      plugins: { paths: [TENANT_GATE] },
      upstreams: [
        { name: 'ws', targets: [{ url: up.url }] },
        { name: 'dead', targets: [{ url: `http://127.0.0.1:${deadPort}` }], timeouts: { connect: '1s' } },
      ],
      routes: routes(),
    });
    ws = `ws://127.0.0.1:${gw.port}`;
    admin = `http://127.0.0.1:${gw.gateway.adminAddress()!.port}`;
  });
  after(async () => {
    await gw.close();
    await up.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('echoes text and binary messages, with forwarding headers upstream and the subprotocol negotiated', async () => {
    const client = await connect(`${ws}/echo`, {}, {}, ['chat.v2', 'chat.v1']);
    assert.equal(client.protocol, 'chat.v2', 'Sec-WebSocket-Protocol passed both ways');
    client.send('hello');
    const text = await nextMessage(client);
    assert.equal(text.binary, false);
    assert.equal(text.data.toString(), 'hello');
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    client.send(bytes);
    const binary = await nextMessage(client);
    assert.equal(binary.binary, true);
    assert.deepEqual(binary.data, bytes);
    const head = up.heads.at(-1)!;
    assert.equal(head['x-forwarded-for'], '127.0.0.1');
    assert.equal(head.upgrade, 'websocket');
    assert.ok(head['sec-websocket-key']);
    client.close(1000);
    assert.equal((await closed(client)).code, 1000);
  });

  it('carries 1 MiB messages both ways, intact', async () => {
    const client = await connect(`${ws}/echo`);
    const big = Buffer.alloc(MiB);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    client.send(big);
    const echoed = await nextMessage(client);
    assert.equal(echoed.data.length, MiB);
    assert.ok(echoed.data.equals(big));
    const text = 'x'.repeat(MiB);
    client.send(text);
    assert.equal((await nextMessage(client)).data.toString(), text);
    client.close();
    await closed(client);
  });

  it('serves 100 concurrent connections', async () => {
    const clients = await Promise.all(Array.from({ length: 100 }, () => connect(`${ws}/echo`)));
    const replies = await Promise.all(
      clients.map((c, i) => {
        const reply = nextMessage(c);
        c.send(`message ${i}`);
        return reply;
      }),
    );
    replies.forEach((r, i) => assert.equal(r.data.toString(), `message ${i}`));
    await Promise.all(clients.map((c) => (c.close(), closed(c))));
  });

  it('passes ping and pong frames both ways', async () => {
    const client = await connect(`${ws}/echo`);
    const pong = new Promise<Buffer>((resolve) => client.once('pong', resolve));
    client.ping(Buffer.from('are you there'));
    assert.equal((await pong).toString(), 'are you there');
    await until(() => up.sockets.size > 0, 'upstream socket');
    const upstreamSide = [...up.sockets].at(-1)!;
    const ping = new Promise<Buffer>((resolve) => client.once('ping', resolve));
    const upstreamPong = new Promise<Buffer>((resolve) => upstreamSide.once('pong', resolve));
    upstreamSide.ping(Buffer.from('from upstream'));
    assert.equal((await ping).toString(), 'from upstream');
    assert.equal((await upstreamPong).toString(), 'from upstream', 'the client auto-pong came back through');
    client.close();
    await closed(client);
  });

  it('propagates close codes and reasons both ways', async () => {
    const client = await connect(`${ws}/echo`);
    const before = up.closes.length;
    client.close(4001, 'client done');
    assert.deepEqual(await closed(client), { code: 4001, reason: 'client done' });
    await until(() => up.closes.length > before, 'upstream close');
    assert.deepEqual(up.closes.at(-1), { code: 4001, reason: 'client done' });

    const other = await connect(`${ws}/close/4002`);
    other.send('bye please');
    assert.deepEqual(await closed(other), { code: 4002, reason: 'upstream says bye' });
  });

  it('relays an upstream refusal as the upstream sent it', async () => {
    const refusal = await refusalOf(`${ws}/refuse`);
    assert.equal(refusal.status, 403);
    assert.equal(refusal.body, 'no way!');
    assert.equal(refusal.headers['x-upstream'], 'yes');
    // An upstream that does not speak WebSocket answers plain HTTP, relayed too.
    const plain = await refusalOf(`${ws}/plain`);
    assert.equal(plain.status, 200);
    assert.match(plain.body, /^plain \/plain upgrade=websocket$/);
  });

  it('answers 502 problem+json when the upstream cannot be reached', async () => {
    const refusal = await refusalOf(`${ws}/dead`);
    assert.equal(refusal.status, 502);
    assert.match(String(refusal.headers['content-type']), /application\/problem\+json/);
    assert.equal(JSON.parse(refusal.body).code, 'SLUICE_ERR_UPSTREAM_CONNECT');
  });

  it('answers 504 when the upstream does not answer the upgrade within timeouts.response', async () => {
    const refusal = await refusalOf(`${ws}/hang`);
    assert.equal(refusal.status, 504);
    assert.equal(JSON.parse(refusal.body).code, 'SLUICE_ERR_UPSTREAM_TIMEOUT');
  });

  it('runs onRequest plugins before the upgrade: a denial is an ordinary response', async () => {
    const before = up.heads.length;
    const denied = await refusalOf(`${ws}/gated/x`, { 'x-tenant': 'other' });
    assert.equal(denied.status, 403);
    assert.deepEqual(JSON.parse(denied.body), { error: 'wrong tenant' });
    assert.equal(up.heads.length, before, 'the upstream never saw the denied upgrade');
    const allowed = await connect(`${ws}/gated/x`, { 'x-tenant': 'acme' });
    assert.equal(up.heads.at(-1)!['x-tenant-checked'], 'acme', 'onUpstreamRequest ran on the upgrade request');
    allowed.send('in');
    assert.equal((await nextMessage(allowed)).data.toString(), 'in');
    allowed.close();
    await closed(allowed);
  });

  it('refuses upgrades on a route with websocket.enabled false, and malformed handshakes', async () => {
    const refusal = await refusalOf(`${ws}/no-ws`);
    assert.equal(refusal.status, 400);
    assert.equal(JSON.parse(refusal.body).code, 'SLUICE_ERR_UPGRADE_NOT_ALLOWED');
    const raw = await rawRequest(
      gw.port,
      'GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n',
    );
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.match(raw, /sec-websocket-version: 13/i);
    assert.match(raw, /SLUICE_ERR_WEBSOCKET_HANDSHAKE/);
    assert.match(raw, /Connection: close/i);
  });

  it('serves other upgrade tokens (h2c) as plain HTTP/1.1 requests', async () => {
    const raw = await rawRequest(gw.port, 'GET /plain HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 /);
    assert.match(raw, /plain \/plain upgrade=\r\n/, 'Upgrade is hop-by-hop: not forwarded');
    const withBody = await rawRequest(gw.port, 'POST /plain HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\nhi');
    assert.match(withBody, /^HTTP\/1\.1 400 /);
    assert.match(withBody, /SLUICE_ERR_UPGRADE_NOT_ALLOWED/);
  });

  it('closes with 1009 both ways when a message exceeds maxMessageSize', async () => {
    const client = await connect(`${ws}/small/x`);
    client.send('a'.repeat(1000));
    assert.equal((await nextMessage(client)).data.length, 1000, 'under the limit passes');
    const before = up.closes.length;
    client.send('b'.repeat(2000));
    assert.equal((await closed(client)).code, 1009);
    await until(() => up.closes.length > before, 'upstream close');
    assert.equal(up.closes.at(-1)!.code, 1009);
  });

  it('closes an idle tunnel with 1001 after idleTimeout; traffic keeps it open', async () => {
    const client = await connect(`${ws}/idle/x`);
    const started = Date.now();
    // Pings every 200 ms for longer than the 1 s idle timeout keep it away.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 200));
      client.ping();
    }
    assert.equal(client.readyState, WebSocket.OPEN, `open after ${Date.now() - started} ms of pings`);
    const { code } = await closed(client);
    assert.equal(code, 1001);
  });

  it('counts open tunnels per route in metrics and /admin/connections, and logs each at its end', async () => {
    const client = await connect(`${ws}/echo`);
    const second = await connect(`${ws}/gated/y`, { 'x-tenant': 'acme' });
    const body = JSON.parse((await request(`${admin}/admin/connections`)).body) as {
      listeners: Array<{ open: number; idle: number; websockets: number; websocketsByRoute: Record<string, number> }>;
    };
    assert.equal(body.listeners[0]!.websockets, 2);
    assert.ok(body.listeners[0]!.open >= 2);
    assert.equal(body.listeners[0]!.idle, body.listeners[0]!.open - 2, 'tunnels are not idle keep-alive connections');
    assert.deepEqual(body.listeners[0]!.websocketsByRoute, { echo: 1, gated: 1 });
    const metrics = (await request(`${admin}/metrics`)).body;
    assert.match(metrics, /^sluice_websocket_connections\{route="echo"\} 1$/m);
    assert.match(metrics, /^sluice_websocket_upgrades_total\{route="echo"\} \d+$/m);
    client.send('12345');
    await nextMessage(client);
    client.close();
    second.close();
    await Promise.all([closed(client), closed(second)]);
    await until(() => gw.gateway.local.connections()[0]!.websockets === 0, 'tunnels gone');
    const after = (await request(`${admin}/metrics`)).body;
    assert.match(after, /^sluice_websocket_connections\{route="echo"\} 0$/m);
    // One access-log line per tunnel, written when it ends: status 101, bytes both ways (frames included).
    const echoLine = (): Record<string, unknown> | undefined =>
      gw.logs.filter((l) => l.kind === 'access' && l.status === 101 && l.route === 'echo' && (l.bytesReceived as number) > 0).at(-1);
    await until(() => echoLine() !== undefined, 'access log line');
    const line = echoLine()!;
    assert.ok((line.bytesReceived as number) >= 5 + 6, 'the masked 5-byte message and its header');
    assert.ok((line.bytesSent as number) >= 5 + 2, 'the 5-byte echo and its header');
    assert.equal(line.upstream, 'ws');
  });
});

describe('WebSocket tunnels across reload and shutdown', () => {
  it('keeps open tunnels through a reload and releases the old snapshot', async () => {
    const up = await startWsUpstream();
    const gw = await startGateway({ plugins: { paths: [TENANT_GATE] }, upstreams: [{ name: 'ws', targets: [{ url: up.url }] }], routes: routes('ws', false) });
    try {
      const client = await connect(`ws://127.0.0.1:${gw.port}/echo`);
      const old = gw.gateway.current();
      const outcome = await gw.gateway.reload({
        listeners: [{ name: 'public', host: '127.0.0.1', port: gw.port }],
        admin: { enabled: false },
        plugins: { paths: [TENANT_GATE] },
        upstreams: [{ name: 'ws', targets: [{ url: up.url }] }],
        routes: [...routes('ws', false), { name: 'extra', match: { paths: ['/extra'] }, upstream: 'ws' }],
      });
      assert.equal(outcome.ok, true, 'reload applied');
      assert.notEqual(gw.gateway.current(), old);
      assert.equal(old.inflight, 0, 'the tunnel holds no reference to the old snapshot');
      // The old snapshot closes (pools, plugins) while the tunnel lives on: its socket is not pooled.
      const retired = await Promise.race([old.retire().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 3000))]);
      assert.equal(retired, 'closed');
      client.send('after reload');
      assert.equal((await nextMessage(client)).data.toString(), 'after reload');
      assert.equal(client.readyState, WebSocket.OPEN);
      client.close(1000);
      assert.equal((await closed(client)).code, 1000);
    } finally {
      await gw.close();
      await up.close();
    }
  });

  it('upgrades go through admission: a tunnel holds its route slot while open; an open circuit refuses with 503', async () => {
    const up = await startWsUpstream();
    const state = await mkdtemp(join(tmpdir(), 'sluice-ws-admit-'));
    const gw = await startGateway({
      admin: { host: '127.0.0.1', port: 0, stateDir: state },
      plugins: { paths: [TENANT_GATE] },
      upstreams: [{ name: 'ws', targets: [{ url: up.url }], circuitBreaker: { perTarget: false } }],
      routes: [{ name: 'one', match: { paths: ['/echo'] }, upstream: 'ws', limits: { maxConcurrent: 1 } }],
    });
    const url = `ws://127.0.0.1:${gw.port}/echo`;
    const adminUrl = `http://127.0.0.1:${gw.gateway.adminAddress()!.port}`;
    try {
      const first = await connect(url);
      const busy = await refusalOf(url);
      assert.equal(busy.status, 503);
      assert.equal(JSON.parse(busy.body).code, 'SLUICE_ERR_ROUTE_OVERLOADED');
      first.close(1000);
      await closed(first);
      // The slot comes back when the tunnel ends.
      let second: WebSocket | undefined;
      for (let i = 0; i < 50 && second === undefined; i++) {
        second = await connect(url).catch(async () => {
          await new Promise((r) => setTimeout(r, 20));
          return undefined;
        });
      }
      assert.ok(second !== undefined, 'a new tunnel once the first closed');
      second.send('hi');
      assert.equal((await nextMessage(second)).data.toString(), 'hi');
      second.close(1000);
      await closed(second);

      const forced = await request(`${adminUrl}/admin/upstreams/ws/circuit`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: 'open' }) });
      assert.equal(forced.status, 200, forced.body);
      const open = await refusalOf(url);
      assert.equal(open.status, 503);
      assert.equal(JSON.parse(open.body).code, 'SLUICE_ERR_CIRCUIT_OPEN');
      assert.match(String(open.headers['retry-after']), /^\d+$/);
    } finally {
      await gw.close();
      await up.close();
      await rm(state, { recursive: true, force: true });
    }
  });

  it('listener request/keep-alive timeouts do not cut a long-lived tunnel', async () => {
    const up = await startWsUpstream();
    const gw = await startGateway({
      listeners: [{ name: 'public', host: '127.0.0.1', port: 0, timeouts: { headers: '300ms', request: '500ms', keepAlive: '300ms' } }],
      plugins: { paths: [TENANT_GATE] },
      upstreams: [{ name: 'ws', targets: [{ url: up.url }] }],
      routes: routes('ws', false),
    });
    try {
      const client = await connect(`ws://127.0.0.1:${gw.port}/echo`);
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 200));
        client.send(`tick ${i}`);
        assert.equal((await nextMessage(client)).data.toString(), `tick ${i}`);
      }
      client.close(1000);
      assert.equal((await closed(client)).code, 1000);
    } finally {
      await gw.close();
      await up.close();
    }
  });

  it('on graceful stop, tunnels work until the drain deadline, then get 1001 both ways', async () => {
    const up = await startWsUpstream();
    const gw = await startGateway({ plugins: { paths: [TENANT_GATE] }, upstreams: [{ name: 'ws', targets: [{ url: up.url }] }], routes: routes('ws', false) });
    try {
      const client = await connect(`ws://127.0.0.1:${gw.port}/echo`);
      const closing = closed(client);
      const before = up.closes.length;
      const stopped = gw.gateway.stop({ deadlineMs: 1500, drainDelayMs: 0 });
      await new Promise((r) => setTimeout(r, 50));
      client.send('still draining');
      assert.equal((await nextMessage(client)).data.toString(), 'still draining');
      assert.equal((await closing).code, 1001);
      await until(() => up.closes.length > before, 'upstream close');
      assert.equal(up.closes.at(-1)!.code, 1001);
      await stopped;
    } finally {
      await up.close();
    }
  });
});

describe('WebSocket over TLS (wss listener, https upstream)', { skip: !hasOpenssl() && 'openssl CLI not found' }, () => {
  it('tunnels wss to an https target, and verifies the target certificate unless told not to', async () => {
    const ca = new TestCa();
    const cert = ca.issue('localhost', { cn: 'localhost', dns: ['localhost'] });
    const up = await startWsUpstream({ cert: cert.cert, key: cert.key });
    const gw = await startGateway({
      listeners: [{ name: 'secure', host: '127.0.0.1', port: 0, protocol: 'https', tls: { certificates: [{ cert: cert.cert, key: cert.key }] } }],
      upstreams: [
        // The test CA is not in the gateway's trust store.
        { name: 'insecure', targets: [{ url: up.url }], tls: { rejectUnauthorized: false } },
        { name: 'verified', targets: [{ url: up.url }] },
      ],
      routes: [
        { name: 'echo', match: { paths: ['/echo'] }, upstream: 'insecure' },
        { name: 'strict', match: { paths: ['/strict'] }, upstream: 'verified', rewrite: { path: '/echo' } },
      ],
    });
    const tlsOptions = { ca: ca.ca, servername: 'localhost' };
    try {
      const client = await connect(`wss://127.0.0.1:${gw.port}/echo`, {}, tlsOptions);
      client.send('over tls');
      assert.equal((await nextMessage(client)).data.toString(), 'over tls');
      assert.equal(up.heads.at(-1)!['x-forwarded-proto'], 'https');
      client.close(1000);
      assert.equal((await closed(client)).code, 1000);
      const refusal = await refusalOf(`wss://127.0.0.1:${gw.port}/strict`, {}, tlsOptions);
      assert.equal(refusal.status, 502);
      assert.equal(JSON.parse(refusal.body).code, 'SLUICE_ERR_UPSTREAM_CONNECT');
    } finally {
      await gw.close();
      await up.close();
      ca.cleanup();
    }
  });
});
