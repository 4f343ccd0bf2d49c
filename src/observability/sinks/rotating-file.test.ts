import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { RotatingFileSink } from './rotating-file.ts';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-rotate-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const lineOf = (i: number) => JSON.stringify({ i, msg: 'm'.repeat(30) });

/** Read app.log.N … app.log.1, app.log (oldest first), gunzipping `.gz` files. */
async function readAll(path: string, max: number): Promise<string> {
  let out = '';
  for (let i = max; i >= 1; i--) {
    for (const name of [`${path}.${i}`, `${path}.${i}.gz`]) {
      const data = await readFile(name).catch(() => undefined);
      if (data) out += name.endsWith('.gz') ? gunzipSync(data).toString('utf8') : data.toString('utf8');
    }
  }
  return out + (await readFile(path, 'utf8'));
}

test('size rotation keeps every line, in order, with no file over maxSize', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'app.log');
    const sink = new RotatingFileSink({ path, maxSize: 1000, retention: 50 });
    const expected: string[] = [];
    for (let i = 0; i < 300; i++) {
      expected.push(lineOf(i));
      sink.write(lineOf(i));
      if (i % 37 === 0) await sink.flush(); // interleave writes with rotations
    }
    await sink.close();
    assert.ok(sink.rotations >= 10, `rotations: ${sink.rotations}`);
    assert.equal(await readAll(path, 50), expected.map((l) => `${l}\n`).join(''));
    for (const name of await readdir(dir)) assert.ok((await stat(join(dir, name))).size <= 1000, name);
    assert.deepEqual(sink.stats(), { name: 'file', queued: 0, sent: 300, dropped: 0, failedBatches: 0, retries: 0 });
  });
});

test('retention deletes the oldest rotated files', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'app.log');
    const sink = new RotatingFileSink({ path, maxSize: 500, retention: 2 });
    for (let i = 0; i < 100; i++) sink.write(lineOf(i));
    await sink.close();
    assert.deepEqual((await readdir(dir)).sort(), ['app.log', 'app.log.1', 'app.log.2']);
    const kept = (await readAll(path, 2)).trimEnd().split('\n');
    assert.equal(kept[kept.length - 1], lineOf(99));
    assert.equal(kept[0], lineOf(100 - kept.length)); // a contiguous tail
  });
});

test('rotated files are gzipped in the background and decompress to the original lines', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'app.log');
    const sink = new RotatingFileSink({ path, maxSize: 800, retention: 20, gzip: true });
    const expected: string[] = [];
    for (let i = 0; i < 120; i++) {
      expected.push(lineOf(i));
      sink.write(lineOf(i));
      if (i % 25 === 0) await sink.flush();
    }
    await sink.close();
    const names = await readdir(dir);
    const rotated = names.filter((n) => n !== 'app.log');
    assert.ok(rotated.length >= 3);
    for (const n of rotated) assert.match(n, /^app\.log\.\d+\.gz$/);
    assert.equal(await readAll(path, 20), expected.map((l) => `${l}\n`).join(''));
  });
});

test('interval rotation follows the UTC clock', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'app.log');
    let clock = Date.parse('2026-01-01T10:59:00Z');
    const sink = new RotatingFileSink({ path, interval: 'hourly', now: () => clock });
    sink.write('a');
    await sink.flush();
    clock = Date.parse('2026-01-01T11:00:01Z');
    sink.write('b');
    await sink.flush();
    clock += 60_000; // same hour: no rotation
    sink.write('c');
    await sink.close();
    assert.equal(await readFile(`${path}.1`, 'utf8'), 'a\n');
    assert.equal(await readFile(path, 'utf8'), 'b\nc\n');
    assert.equal(sink.rotations, 1);
  });
});

test('never throws: full queue, unwritable path and writes after close are dropped and counted', async () => {
  await withDir(async (dir) => {
    const small = new RotatingFileSink({ path: join(dir, 'a.log'), maxQueueChars: 100 });
    for (let i = 0; i < 10; i++) small.write('x'.repeat(30));
    await small.close();
    small.write('late');
    assert.deepEqual(small.stats(), { name: 'file', queued: 0, sent: 3, dropped: 8, failedBatches: 0, retries: 0 });

    const bad = new RotatingFileSink({ path: join(dir, 'missing', 'b.log') });
    bad.write('lost');
    await bad.close();
    assert.deepEqual(bad.stats(), { name: 'file', queued: 0, sent: 0, dropped: 1, failedBatches: 1, retries: 0 });
  });
});
