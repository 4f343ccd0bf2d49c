import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { AuditLog } from './audit-log.ts';
import type { AuditEntry } from './http/types.ts';

/** A pino logger whose records land in `lines`, parsed. */
function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

function entry(overrides: Partial<Omit<AuditEntry, 'id'>> = {}): Omit<AuditEntry, 'id'> {
  return {
    time: '2024-05-01T10:00:00.000Z',
    actor: 'alice',
    role: 'admin',
    action: 'config.reload',
    method: 'POST',
    path: '/admin/config/reload',
    clientIp: '127.0.0.1',
    requestId: 'r1',
    status: 200,
    outcome: 'success',
    ...overrides,
  };
}

const silent = pino({ level: 'silent' });

describe('AuditLog (memory)', () => {
  it('assigns increasing ids, logs each entry and returns newest first', async () => {
    const { logger, lines } = capture();
    const log = await AuditLog.open({ dir: undefined, logger });
    log.record(entry({ requestId: 'a' }));
    log.record(entry({ requestId: 'b' }));
    await log.flush();
    assert.deepEqual(log.query({}).map((e) => [e.id, e.requestId]), [[2, 'b'], [1, 'a']]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 2);
    assert.equal(lines[0]?.msg, 'admin action');
    assert.deepEqual(lines[0]?.audit, { id: 1, ...entry({ requestId: 'a' }) });
  });

  it('keeps a bounded ring', async () => {
    const log = await AuditLog.open({ dir: undefined, limit: 3, logger: silent });
    for (let i = 1; i <= 5; i++) log.record(entry({ requestId: `r${i}` }));
    assert.deepEqual(log.query({}).map((e) => e.id), [5, 4, 3]);
  });

  it('combines filters with AND and honours since and limit', async () => {
    const log = await AuditLog.open({ dir: undefined, logger: silent });
    log.record(entry({ time: '2024-05-01T10:00:00.000Z', actor: 'alice', action: 'config.reload' }));
    log.record(entry({ time: '2024-05-01T11:00:00.000Z', actor: 'bob', action: 'config.reload', outcome: 'denied', status: 403 }));
    log.record(entry({ time: '2024-05-01T12:00:00.000Z', actor: 'alice', action: 'cache.purge' }));
    log.record(entry({ time: '2024-05-01T13:00:00.000Z', actor: 'alice', action: 'config.reload', outcome: 'failure', status: 400 }));
    const ids = (q: Parameters<AuditLog['query']>[0]) => log.query(q).map((e) => e.id);
    assert.deepEqual(ids({ actor: 'alice' }), [4, 3, 1]);
    assert.deepEqual(ids({ actor: 'alice', action: 'config.reload' }), [4, 1]);
    assert.deepEqual(ids({ outcome: 'denied' }), [2]);
    assert.deepEqual(ids({ actor: 'alice', outcome: 'success', since: '2024-05-01T11:00:00Z' }), [3]);
    assert.deepEqual(ids({ since: '2024-05-01T12:00:00.000+00:00' }), [4, 3]);
    assert.deepEqual(ids({ limit: 2 }), [4, 3]);
    assert.deepEqual(ids({ limit: 0 }), [4]);
    assert.deepEqual(ids({ actor: 'nobody' }), []);
  });

  it('caps the query limit at 1000 and defaults to 100', async () => {
    const log = await AuditLog.open({ dir: undefined, limit: 2000, logger: silent });
    for (let i = 0; i < 1500; i++) log.record(entry());
    assert.equal(log.query({}).length, 100);
    assert.equal(log.query({ limit: 5000 }).length, 1000);
  });
});

describe('AuditLog (disk)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-audit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends JSON lines in order and reloads them on open, continuing the ids', async () => {
    const log = await AuditLog.open({ dir, logger: silent });
    for (let i = 1; i <= 50; i++) log.record(entry({ requestId: `r${i}` }));
    await log.flush();
    const path = join(dir, 'audit.jsonl');
    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);
    assert.deepEqual(lines.map((e) => e.id), Array.from({ length: 50 }, (_, i) => i + 1));
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);

    const reopened = await AuditLog.open({ dir, limit: 10, logger: silent });
    assert.deepEqual(reopened.query({}).map((e) => e.id), [50, 49, 48, 47, 46, 45, 44, 43, 42, 41]);
    reopened.record(entry({ requestId: 'after' }));
    assert.equal(reopened.query({ limit: 1 })[0]?.id, 51);
    await reopened.flush();
    assert.equal((await readFile(path, 'utf8')).trim().split('\n').length, 51);
  });

  it('skips bad lines on open', async () => {
    const good = (id: number) => JSON.stringify({ id, ...entry() });
    await writeFile(join(dir, 'audit.jsonl'), [good(1), '{torn', '', JSON.stringify({ id: 'x' }), good(2), '{"id":3,"ti'].join('\n'));
    const log = await AuditLog.open({ dir, logger: silent });
    assert.deepEqual(log.query({}).map((e) => e.id), [2, 1]);
    log.record(entry());
    assert.equal(log.query({ limit: 1 })[0]?.id, 3);
  });

  it('rewrites an oversized file to the last `limit` entries on open', async () => {
    const text = Array.from({ length: 10_050 }, (_, i) => JSON.stringify({ id: i + 1, ...entry() })).join('\n');
    await writeFile(join(dir, 'audit.jsonl'), `${text}\n`);
    await writeFile(join(dir, 'audit.jsonl.1.ab.tmp'), 'left by a crash');
    const log = await AuditLog.open({ dir, limit: 20, logger: silent });
    const lines = (await readFile(join(dir, 'audit.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 20);
    assert.equal((JSON.parse(lines[0]!) as AuditEntry).id, 10_031);
    assert.deepEqual(await readdir(dir), ['audit.jsonl']);
    log.record(entry());
    await log.flush();
    assert.equal(log.query({ limit: 1 })[0]?.id, 10_051);
  });

  it('keeps the file bounded while running', async () => {
    const log = await AuditLog.open({ dir, limit: 10, logger: silent });
    for (let i = 0; i < 10_005; i++) log.record(entry());
    await log.flush();
    for (let i = 0; i < 3; i++) log.record(entry());
    await log.flush();
    const ids = (await readFile(join(dir, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as AuditEntry).id);
    assert.ok(ids.length <= 10 + 3, `file has ${ids.length} lines`);
    assert.deepEqual(ids.slice(-3), [10_006, 10_007, 10_008]);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  });

  it('never throws when the file cannot be written, and logs the failure', async () => {
    const { logger, lines } = capture();
    // A directory in place of the file makes every append fail.
    await mkdir(join(dir, 'audit.jsonl'));
    const log = await AuditLog.open({ dir, logger });
    assert.doesNotThrow(() => log.record(entry()));
    await log.flush();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(log.query({}).length, 1);
    assert.ok(lines.some((l) => l.msg === 'audit log: could not append'));
  });
});
