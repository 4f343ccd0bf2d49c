import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeFrame, FrameTracker, ScanResult } from './websocket-frames.ts';

/** A frame as a peer would send it: opcode, FIN, optional 4-byte mask, payload of `length` bytes. */
function frame(opcode: number, length: number, options: { fin?: boolean; masked?: boolean } = {}): Buffer {
  const masked = options.masked ?? false;
  const ext = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  head[0] = ((options.fin ?? true) ? 0x80 : 0) | opcode;
  head[1] = (masked ? 0x80 : 0) | (ext === 0 ? length : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(length, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (masked) head.set([1, 2, 3, 4], 2 + ext);
  return Buffer.concat([head, Buffer.alloc(length, 0x61)]);
}

const BIG = { maxFrame: 1 << 30, maxMessage: 1 << 30 };

describe('FrameTracker', () => {
  it('follows frames of every length encoding, whole or split at every byte', () => {
    const stream = Buffer.concat([frame(1, 5, { masked: true }), frame(2, 300), frame(2, 70_000, { masked: true }), frame(9, 0), frame(10, 3)]);
    for (let cut = 1; cut < 40; cut++) {
      const t = new FrameTracker(BIG);
      for (let i = 0; i < stream.length; i += cut) assert.equal(t.scan(stream.subarray(i, i + cut)), ScanResult.Ok);
      assert.equal(t.frames, 5, `cut ${cut}`);
      assert.ok(t.atBoundary);
    }
  });

  it('reports a partial header held at the end of a chunk', () => {
    const t = new FrameTracker(BIG);
    const f = frame(2, 70_000, { masked: true });
    t.scan(f.subarray(0, 5));
    assert.equal(t.partialHeader, 5);
    assert.equal(t.atBoundary, false);
    t.scan(f.subarray(5));
    assert.equal(t.partialHeader, 0);
    assert.ok(t.atBoundary);
  });

  it('flags a frame over maxFrame at its header, with the header offset', () => {
    const t = new FrameTracker({ maxFrame: 100, maxMessage: 1000 });
    const stream = Buffer.concat([frame(1, 10), frame(2, 101)]);
    assert.equal(t.scan(stream), ScanResult.TooBig);
    assert.equal(t.offset, 12);
  });

  it('gives a negative offset when the offending header began in the previous chunk', () => {
    const t = new FrameTracker({ maxFrame: 100, maxMessage: 1000 });
    const f = frame(2, 70_000);
    assert.equal(t.scan(f.subarray(0, 3)), ScanResult.Ok);
    assert.equal(t.scan(f.subarray(3)), ScanResult.TooBig);
    assert.equal(t.offset, -3);
  });

  it('sums fragments against maxMessage; control frames between fragments do not count', () => {
    const t = new FrameTracker({ maxFrame: 100, maxMessage: 150 });
    const ok = Buffer.concat([frame(1, 100, { fin: false }), frame(9, 100), frame(0, 50)]);
    assert.equal(t.scan(ok), ScanResult.Ok);
    const over = Buffer.concat([frame(2, 100, { fin: false }), frame(0, 51)]);
    assert.equal(t.scan(over), ScanResult.TooBig);
    assert.equal(t.offset, 102);
  });

  it('rejects 64-bit lengths beyond 2^53', () => {
    const t = new FrameTracker(BIG);
    const head = Buffer.from([0x82, 127, 0xff, 0, 0, 0, 0, 0, 0, 1]);
    assert.equal(t.scan(head), ScanResult.TooBig);
    assert.equal(t.offset, 0);
  });

  it('stops at the first boundary when asked', () => {
    const t = new FrameTracker(BIG);
    const a = frame(2, 20);
    t.scan(a.subarray(0, 10));
    const rest = Buffer.concat([a.subarray(10), frame(1, 4)]);
    assert.equal(t.scan(rest, true), ScanResult.Boundary);
    assert.equal(t.offset, a.length - 10);
    // Already at a boundary: the chunk's start is the boundary.
    assert.equal(t.scan(frame(1, 4), true), ScanResult.Boundary);
    assert.equal(t.offset, 0);
  });

  it('notices a close frame', () => {
    const t = new FrameTracker(BIG);
    t.scan(closeFrame(1000, 'bye', true));
    assert.ok(t.closeSeen);
  });
});

describe('closeFrame', () => {
  it('is unmasked towards clients', () => {
    const f = closeFrame(1001, 'going away', false);
    assert.equal(f[0], 0x88);
    assert.equal(f[1], 12);
    assert.equal(f.readUInt16BE(2), 1001);
    assert.equal(f.subarray(4).toString(), 'going away');
  });

  it('is masked towards upstreams, and unmasks to the code and reason', () => {
    const f = closeFrame(1009, 'too big', true);
    assert.equal(f[1]! & 0x80, 0x80);
    const len = f[1]! & 0x7f;
    const key = f.subarray(2, 6);
    const payload = Buffer.from(f.subarray(6, 6 + len).map((b, i) => b ^ key[i & 3]!));
    assert.equal(payload.readUInt16BE(0), 1009);
    assert.equal(payload.subarray(2).toString(), 'too big');
  });
});
