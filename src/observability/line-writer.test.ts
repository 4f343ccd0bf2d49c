import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LineWriter } from './line-writer.ts';

describe('LineWriter', () => {
  for (const shared of [false, true]) {
    it(`writes every line once, in order (sharedFd: ${shared})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-lw-'));
      const file = join(dir, 'out.log');
      const fd = openSync(file, 'w');
      const writer = new LineWriter(fd, shared);
      const lines = Array.from({ length: 5000 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(i % 97)}"}\n`);
      for (const line of lines) writer.write(line);
      await new Promise((r) => setTimeout(r, 300));
      writer.close();
      closeSync(fd);
      assert.equal(readFileSync(file, 'utf8'), lines.join(''));
      assert.equal(writer.dropped, 0);
      rmSync(dir, { recursive: true, force: true });
    });
  }
});
