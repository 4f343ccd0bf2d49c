import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHttpNdjsonSink } from './http-ndjson.ts';
import { startServer } from './test-server.ts';

describe('http-ndjson sink', () => {
  it('POSTs NDJSON with custom headers', async () => {
    const srv = await startServer();
    const sink = createHttpNdjsonSink({ url: `${srv.url}/ingest?x=1`, headers: { authorization: 'Bearer t0k' }, flushIntervalMs: 60_000 });
    try {
      sink.write('{"msg":"a"}');
      sink.write('{"msg":"b"}\n');
      await sink.close();
      assert.equal(srv.requests.length, 1);
      const req = srv.requests[0]!;
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/ingest?x=1');
      assert.equal(req.headers['content-type'], 'application/x-ndjson');
      assert.equal(req.headers.authorization, 'Bearer t0k');
      assert.equal(req.headers['content-encoding'], undefined);
      const lines = req.body.split('\n');
      assert.equal(lines.pop(), ''); // body ends with a newline
      assert.deepEqual(lines.map((l) => JSON.parse(l)), [{ msg: 'a' }, { msg: 'b' }]);
    } finally {
      await srv.close();
    }
  });

  it('gzips the body when asked', async () => {
    const srv = await startServer();
    const sink = createHttpNdjsonSink({ url: srv.url, gzip: true, flushIntervalMs: 60_000 });
    try {
      const line = JSON.stringify({ msg: 'repeat '.repeat(200) });
      for (let i = 0; i < 20; i++) sink.write(line);
      await sink.close();
      const req = srv.requests[0]!;
      assert.equal(req.headers['content-encoding'], 'gzip');
      assert.equal(req.body, `${line}\n`.repeat(20)); // test server gunzips
      assert.ok(req.rawBytes < req.body.length / 10, 'compressed on the wire');
      assert.equal(sink.stats().sent, 20);
    } finally {
      await srv.close();
    }
  });
});
