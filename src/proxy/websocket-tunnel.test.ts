import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketTunnel } from './websocket-tunnel.ts';

/** Two connected TCP sockets on 127.0.0.1: [peer, gateway side]. */
async function socketPair(server: net.Server): Promise<[net.Socket, net.Socket]> {
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  // Half-open like a peer still finishing a frame after the gateway's FIN.
  const peer = net.connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  const side = await accepted;
  await new Promise((r) => (peer.connecting ? peer.once('connect', r) : r(undefined)));
  return [peer, side];
}

function collect(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => socket.once('end', () => resolve(Buffer.concat(chunks))));
}

function frame(opcode: number, payload: Buffer, masked: boolean): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (masked ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  // A zero mask key keeps the payload readable in assertions; the framing is what is tested.
  return Buffer.concat([head, payload]);
}

/** The close code in a (possibly masked) close frame at `at`. */
function closeCodeAt(bytes: Buffer, at: number): number {
  assert.equal(bytes[at], 0x88, 'a close frame');
  const masked = (bytes[at + 1]! & 0x80) !== 0;
  const start = at + 2 + (masked ? 4 : 0);
  if (!masked) return bytes.readUInt16BE(start);
  const key = bytes.subarray(at + 2, at + 6);
  return ((bytes[start]! ^ key[0]!) << 8) | (bytes[start + 1]! ^ key[1]!);
}

const tick = () => new Promise((r) => setTimeout(r, 30));

describe('WebSocketTunnel', () => {
  let server: net.Server;
  before(async () => {
    server = net.createServer({ allowHalfOpen: true });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  async function tunnel(policy = { idleTimeoutMs: 0, maxFrame: 1 << 20, maxMessage: 1 << 20 }) {
    const [clientPeer, client] = await socketPair(server);
    const [upstreamPeer, upstream] = await socketPair(server);
    const counters = { bytesSent: 0, bytesReceived: 0 };
    let closes = 0;
    const t = new WebSocketTunnel({ client, upstream, clientHead: Buffer.alloc(0), upstreamHead: Buffer.alloc(0), policy, route: 'r', counters, onClose: () => closes++ });
    return { t, clientPeer, upstreamPeer, counters, closes: () => closes };
  }

  it('at shutdown lets a frame in progress finish, then sends 1001: masked upstream, unmasked to the client', async () => {
    const { t, clientPeer, upstreamPeer, counters, closes } = await tunnel();
    const toUpstream = collect(upstreamPeer);
    const toClient = collect(clientPeer);
    const first = frame(2, Buffer.alloc(100, 7), true);
    clientPeer.write(first.subarray(0, 40));
    await tick();
    t.goAway();
    await tick();
    clientPeer.write(Buffer.concat([first.subarray(40), frame(1, Buffer.from('dropped'), true)]));
    const up = await toUpstream;
    assert.deepEqual(up.subarray(0, first.length), first, 'the whole frame, never cut');
    assert.equal(closeCodeAt(up, first.length), 1001);
    assert.equal(up[first.length + 1]! & 0x80, 0x80, 'masked towards the upstream');
    assert.equal(up.length, first.length + 6 + 2 + 'gateway shutting down'.length, 'nothing after the close frame');
    const down = await toClient;
    assert.equal(closeCodeAt(down, 0), 1001);
    assert.equal(down[1]! & 0x80, 0, 'unmasked towards the client');
    clientPeer.destroy();
    upstreamPeer.destroy();
    await tick();
    assert.equal(closes(), 1);
    assert.ok(counters.bytesReceived >= first.length);
    assert.equal(counters.bytesSent, down.length);
  });

  it('stops an oversized frame at its header, even split across chunks, and closes 1009 both ways', async () => {
    const { clientPeer, upstreamPeer } = await tunnel({ idleTimeoutMs: 0, maxFrame: 1000, maxMessage: 1000 });
    const toUpstream = collect(upstreamPeer);
    const toClient = collect(clientPeer);
    const ok = frame(1, Buffer.from('fine'), true);
    const big = frame(2, Buffer.alloc(5000, 1), true);
    clientPeer.write(Buffer.concat([ok, big.subarray(0, 3)]));
    await tick();
    clientPeer.write(big.subarray(3));
    const up = await toUpstream;
    assert.deepEqual(up.subarray(0, ok.length), ok);
    assert.equal(closeCodeAt(up, ok.length), 1009, 'no byte of the oversized header went through');
    assert.equal(closeCodeAt(await toClient, 0), 1009);
    clientPeer.destroy();
    upstreamPeer.destroy();
  });

  it('passes frames both ways untouched and ends when both peers hang up', async () => {
    const { clientPeer, upstreamPeer, closes } = await tunnel();
    const toUpstream = collect(upstreamPeer);
    const toClient = collect(clientPeer);
    const c = Buffer.concat([frame(9, Buffer.from('ping'), true), frame(1, Buffer.alloc(70_000, 0x61), true)]);
    const u = Buffer.concat([frame(10, Buffer.from('ping'), false), frame(8, Buffer.from([0x0f, 0xa1]), false)]);
    clientPeer.end(c);
    upstreamPeer.end(u);
    assert.deepEqual(await toUpstream, c);
    assert.deepEqual(await toClient, u);
    await tick();
    assert.equal(closes(), 1);
  });
});
