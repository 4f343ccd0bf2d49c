import assert from 'node:assert/strict';
import { PassThrough, type Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { ReplayBody } from './replay-body.ts';

function collect(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

describe('ReplayBody', () => {
  it('a second attempt gets the whole body: what was kept, then what still arrives', async () => {
    const source = new PassThrough();
    const body = new ReplayBody(source, 100);
    const first = body.attach();
    source.write('hello ');
    await new Promise((r) => setImmediate(r));
    assert.equal(first.read()?.toString(), 'hello ');
    const second = body.attach();
    source.end('world');
    assert.equal(await collect(second), 'hello world');
    assert.equal(body.replayable, true);
  });

  it('past the limit the copy is dropped: not replayable, the current attempt still gets everything', async () => {
    const source = new PassThrough();
    const body = new ReplayBody(source, 4);
    const first = body.attach();
    const all = collect(first);
    source.end('0123456789');
    assert.equal(await all, '0123456789');
    assert.equal(body.replayable, false);
  });

  it('a client body error fails the attempt and makes the body not replayable', async () => {
    const source = new PassThrough();
    const body = new ReplayBody(source, 100);
    const sink = body.attach();
    const failed = collect(sink).then(
      () => 'ended',
      (e: Error) => e.message,
    );
    source.destroy(new Error('aborted'));
    assert.equal(await failed, 'aborted');
    assert.equal(body.replayable, false);
  });
});
