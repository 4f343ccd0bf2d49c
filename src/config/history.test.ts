import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { canonicalJson, ConfigHistory, configHash } from './history.ts';

const config = (n: number) => ({ routes: [{ name: 'users', upstream: `u${n}` }], upstreams: [{ name: `u${n}`, targets: [{ url: 'http://127.0.0.1:3000' }] }] });

describe('ConfigHistory (memory)', () => {
  it('numbers versions, lists newest first without bodies, and returns stored configs', async () => {
    const history = await ConfigHistory.open({ dir: undefined, limit: 10 });
    assert.equal(history.latest(), undefined);
    const first = await history.record({ config: config(1), source: 'startup', actor: 'system' });
    const second = await history.record({ config: config(2), source: 'api', actor: 'alice' });
    assert.equal(first.version, 1);
    assert.equal(second.version, 2);
    assert.match(second.hash, /^sha256:[0-9a-f]{64}$/);
    assert.ok(!Number.isNaN(Date.parse(second.appliedAt)));
    const list = history.list();
    assert.deepEqual(list.map((v) => [v.version, v.source, v.actor]), [[2, 'api', 'alice'], [1, 'startup', 'system']]);
    assert.ok(list.every((v) => !('config' in v)));
    assert.equal(history.latest()?.version, 2);
    assert.deepEqual((await history.get(1))?.config, config(1));
    assert.equal(await history.get(3), undefined);
  });

  it('keeps at most `limit` versions', async () => {
    const history = await ConfigHistory.open({ dir: undefined, limit: 2 });
    for (let i = 1; i <= 4; i++) await history.record({ config: config(i), source: 'file', actor: 'file' });
    assert.deepEqual(history.list().map((v) => v.version), [4, 3]);
    assert.equal(await history.get(2), undefined);
    assert.deepEqual((await history.get(3))?.config, config(3));
  });
});

describe('hash', () => {
  it('does not depend on key order, but does on array order and values', () => {
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: 'v' } };
    const b = { a: { x: 'v', y: [1, { p: 2, q: 1 }] }, b: 1 };
    assert.equal(canonicalJson(a), '{"a":{"x":"v","y":[1,{"p":2,"q":1}]},"b":1}');
    assert.equal(configHash(a), configHash(b));
    assert.notEqual(configHash({ l: [1, 2] }), configHash({ l: [2, 1] }));
    assert.notEqual(configHash({ a: 1 }), configHash({ a: '1' }));
  });
});

describe('ConfigHistory (disk)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-history-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('persists versions across re-open and continues the numbering', async () => {
    const history = await ConfigHistory.open({ dir, limit: 10 });
    await history.record({ config: config(1), source: 'startup', actor: 'system' });
    await history.record({ config: config(2), source: 'api', actor: 'alice' });
    assert.deepEqual((await readdir(join(dir, 'history'))).sort(), ['00000001.json', '00000002.json']);

    const reopened = await ConfigHistory.open({ dir, limit: 10 });
    assert.deepEqual(reopened.list(), history.list());
    assert.deepEqual(await reopened.get(2), await history.get(2));
    const third = await reopened.record({ config: config(3), source: 'rollback', actor: 'bob' });
    assert.equal(third.version, 3);
    assert.deepEqual((await reopened.get(1))?.config, config(1));
  });

  it('writes each version atomically with mode 0600 and leaves no temp files', async () => {
    const history = await ConfigHistory.open({ dir, limit: 10 });
    const stored = await history.record({ config: { secret: 'x' }, source: 'api', actor: 'alice' });
    const files = await readdir(join(dir, 'history'));
    assert.deepEqual(files, ['00000001.json']);
    const path = join(dir, 'history', files[0]!);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), stored);
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it('removes temp files left by an interrupted write on open', async () => {
    await mkdir(join(dir, 'history'), { recursive: true });
    await writeFile(join(dir, 'history', '00000001.json.123.abcd.tmp'), '{"half');
    const history = await ConfigHistory.open({ dir, limit: 10 });
    assert.equal(history.latest(), undefined);
    assert.deepEqual(await readdir(join(dir, 'history')), []);
  });

  it('keeps at most `limit` files, deleting the oldest', async () => {
    const history = await ConfigHistory.open({ dir, limit: 3 });
    for (let i = 1; i <= 5; i++) await history.record({ config: config(i), source: 'file', actor: 'file' });
    assert.deepEqual((await readdir(join(dir, 'history'))).sort(), ['00000003.json', '00000004.json', '00000005.json']);
    assert.deepEqual(history.list().map((v) => v.version), [5, 4, 3]);
    assert.equal(await history.get(2), undefined);

    // A smaller limit on re-open trims the directory too; numbering still continues.
    const smaller = await ConfigHistory.open({ dir, limit: 2 });
    assert.deepEqual(smaller.list().map((v) => v.version), [5, 4]);
    assert.deepEqual((await readdir(join(dir, 'history'))).sort(), ['00000004.json', '00000005.json']);
    assert.equal((await smaller.record({ config: config(6), source: 'api', actor: 'a' })).version, 6);
  });

  it('skips corrupt or unreadable files without crashing and never reuses their numbers', async () => {
    const history = await ConfigHistory.open({ dir, limit: 10 });
    for (let i = 1; i <= 3; i++) await history.record({ config: config(i), source: 'file', actor: 'file' });
    await writeFile(join(dir, 'history', '00000002.json'), '{not json');
    await writeFile(join(dir, 'history', '00000003.json'), JSON.stringify({ version: 99, config: {} }));
    await writeFile(join(dir, 'history', 'notes.txt'), 'ignored');

    const reopened = await ConfigHistory.open({ dir, limit: 10 });
    assert.deepEqual(reopened.list().map((v) => v.version), [1]);
    assert.equal(await reopened.get(2), undefined);
    assert.equal((await reopened.record({ config: config(4), source: 'api', actor: 'a' })).version, 4);
  });

  it('returns undefined when a listed version file is damaged after open', async () => {
    const history = await ConfigHistory.open({ dir, limit: 10 });
    await history.record({ config: config(1), source: 'file', actor: 'file' });
    await writeFile(join(dir, 'history', '00000001.json'), '');
    assert.equal(await history.get(1), undefined);
    await rm(join(dir, 'history', '00000001.json'));
    assert.equal(await history.get(1), undefined);
  });

  it('creates the state directory when it does not exist', async () => {
    const nested = join(dir, 'a', 'b');
    const history = await ConfigHistory.open({ dir: nested, limit: 5 });
    await history.record({ config: config(1), source: 'startup', actor: 'system' });
    assert.deepEqual(await readdir(join(nested, 'history')), ['00000001.json']);
  });

  it('keeps a version in memory when its file cannot be written', async () => {
    const history = await ConfigHistory.open({ dir, limit: 5 });
    // A directory where the version file should go makes the rename fail.
    await mkdir(join(dir, 'history', '00000001.json'));
    const stored = await history.record({ config: config(1), source: 'api', actor: 'a' });
    assert.equal(stored.version, 1);
    assert.deepEqual((await history.get(1))?.config, config(1));
    assert.ok((await readdir(join(dir, 'history'))).every((name) => !name.endsWith('.tmp')));
  });
});
