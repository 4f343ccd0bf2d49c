import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CW_EVENT_OVERHEAD, CW_MAX_SPAN_MS, CloudWatchSink } from './cloudwatch.ts';
import { parseAuthorization, signRequest } from './sigv4.ts';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret/KEY', sessionToken: 'sess' };
type Reply = { status: number; body: Record<string, unknown> };
interface PutBody {
  logGroupName: string;
  logStreamName: string;
  sequenceToken?: string;
  logEvents: { timestamp: number; message: string }[];
}

/** Recompute the signature server-side from the received headers, as AWS would. */
function verifySignature(req: IncomingMessage, body: string): void {
  const auth = parseAuthorization(String(req.headers['authorization']));
  assert.ok(auth, 'authorization header');
  const [, day, region, service] = auth.credential.split('/');
  assert.equal(region, 'us-west-2');
  assert.equal(service, 'logs');
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) headers[name] = String(req.headers[name]);
  const stamp = String(req.headers['x-amz-date']);
  assert.equal(stamp.slice(0, 8), day);
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13)}`;
  const again = signRequest({
    method: req.method!, url: `http://${req.headers.host}${req.url}`, headers, body,
    region: 'us-west-2', service: 'logs', credentials, date: new Date(iso),
  });
  assert.equal(auth.signature, again.signature, 'signature matches');
  assert.ok(auth.signedHeaders.includes('x-amz-security-token'));
  assert.ok(auth.signedHeaders.includes('x-amz-target'));
}

/** A fake Logs endpoint: `script` decides each PutLogEvents reply; accepted batches are recorded. */
async function fakeLogs(script: (put: PutBody, n: number) => Reply | undefined) {
  const accepted: PutBody[] = [];
  const errors: unknown[] = [];
  let creates = 0;
  let puts = 0;
  let token = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      let reply: Reply = { status: 200, body: {} };
      try {
        assert.equal(req.headers['content-type'], 'application/x-amz-json-1.1');
        verifySignature(req, body);
        const target = req.headers['x-amz-target'];
        if (target === 'Logs_20140328.CreateLogStream') {
          creates++;
          reply = { status: 400, body: { __type: 'com.amazonaws.logs#ResourceAlreadyExistsException', message: 'exists' } };
        } else {
          assert.equal(target, 'Logs_20140328.PutLogEvents');
          const put = JSON.parse(body) as PutBody;
          reply = script(put, puts++) ?? { status: 200, body: { nextSequenceToken: `T${++token}` } };
          if (reply.status === 200) accepted.push(put);
        }
      } catch (err) {
        errors.push(err);
        reply = { status: 400, body: { __type: 'InvalidParameterException', message: String(err) } };
      }
      res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const close = () => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  };
  return { endpoint, accepted, errors, close, creates: () => creates };
}

const base = { region: 'us-west-2', logGroupName: 'g', logStreamName: 's', credentials };
const timestampOf = (line: string) => (JSON.parse(line) as { t: number }).t;

test('signed puts, sorted events, sequence tokens, throttling and invalid token retries', async () => {
  const seen: (string | undefined)[] = [];
  const srv = await fakeLogs((put, n) => {
    seen.push(put.sequenceToken);
    if (n === 0) return { status: 400, body: { __type: 'ThrottlingException', message: 'slow down' } };
    if (n === 1) return { status: 400, body: { __type: 'InvalidSequenceTokenException', expectedSequenceToken: 'X' } };
    if (n === 2) assert.equal(put.sequenceToken, 'X');
    return undefined;
  });
  const sink = new CloudWatchSink({ ...base, endpoint: srv.endpoint, timestampOf, batch: { maxBatchLines: 10, backoffMs: 5, flushIntervalMs: 10 } });
  const t0 = Date.now();
  const order = Array.from({ length: 25 }, (_, i) => (i * 7) % 25); // a permutation: out of order
  for (const i of order) sink.write(JSON.stringify({ t: t0 + i, i }));
  await sink.close(3000);
  await srv.close();

  assert.deepEqual(srv.errors, []);
  assert.equal(srv.creates(), 1);
  assert.deepEqual(seen.slice(0, 3), [undefined, undefined, 'X']);
  // Each accepted put carries the token returned by the previous one.
  srv.accepted.slice(1).forEach((put, k) => assert.equal(put.sequenceToken, `T${k + 1}`));
  const all = srv.accepted.flatMap((p) => p.logEvents);
  assert.equal(all.length, 25);
  for (const put of srv.accepted) {
    assert.ok(put.logEvents.length <= 10);
    assert.equal(put.logGroupName, 'g');
    const ts = put.logEvents.map((e) => e.timestamp);
    assert.deepEqual(ts, [...ts].sort((a, b) => a - b));
  }
  assert.deepEqual(new Set(all.map((e) => (JSON.parse(e.message) as { i: number }).i)).size, 25);
  assert.deepEqual(sink.stats(), { name: 'cloudwatch', queued: 0, sent: 25, dropped: 0, failedBatches: 0, retries: 2 });
});

test('batches respect byte limit (26 bytes overhead per event) and the 24 h span', async () => {
  const srv = await fakeLogs(() => undefined);
  const t0 = Date.now() - 3 * CW_MAX_SPAN_MS;
  const pad = 'x'.repeat(70);
  // Every line has the same size, so exactly 7 fit a batch: 8 would cross by 10 bytes.
  const eventBytes = Buffer.byteLength(JSON.stringify({ t: t0, pad })) + CW_EVENT_OVERHEAD;
  const maxBatchBytes = 8 * eventBytes - 10;
  const sink = new CloudWatchSink({ ...base, endpoint: srv.endpoint, timestampOf, batch: { maxBatchBytes, flushIntervalMs: 10_000 } });
  // 14 events fill two batches by bytes; then an event at exactly +24 h must start a new batch.
  for (let i = 0; i < 15; i++) sink.write(JSON.stringify({ t: t0 + i, pad }));
  sink.write(JSON.stringify({ t: t0 + 14 + CW_MAX_SPAN_MS - 1, pad }));
  sink.write(JSON.stringify({ t: t0 + 14 + CW_MAX_SPAN_MS, pad }));
  await sink.close(3000);
  await srv.close();

  assert.deepEqual(srv.errors, []);
  assert.equal(srv.accepted.flatMap((p) => p.logEvents).length, 17);
  assert.deepEqual(srv.accepted.map((p) => p.logEvents.length), [7, 7, 2, 1]);
  for (const put of srv.accepted) {
    const bytes = put.logEvents.reduce((s, e) => s + Buffer.byteLength(e.message) + CW_EVENT_OVERHEAD, 0);
    assert.ok(bytes <= maxBatchBytes, `batch of ${bytes} bytes`);
    const ts = put.logEvents.map((e) => e.timestamp);
    assert.ok(ts[ts.length - 1]! - ts[0]! < CW_MAX_SPAN_MS, 'span under 24 h');
  }
});

test('bounded queue drops and counts; DataAlreadyAccepted is success; fatal errors fail the batch', async () => {
  const srv = await fakeLogs((_put, n) => {
    if (n === 0) return { status: 400, body: { __type: 'DataAlreadyAcceptedException', expectedSequenceToken: 'D' } };
    if (n === 1) return { status: 400, body: { __type: 'InvalidParameterException', message: 'bad' } };
    return undefined;
  });
  const sink = new CloudWatchSink({ ...base, endpoint: srv.endpoint, batch: { maxQueueLines: 3, maxBatchLines: 100, flushIntervalMs: 10_000 } });
  for (let i = 0; i < 5; i++) sink.write(`a${i}`);
  await sink.flush(2000);
  for (let i = 0; i < 2; i++) sink.write(`b${i}`);
  await sink.flush(2000);
  sink.write('c');
  await sink.close(2000);
  sink.write('after close');
  await srv.close();

  assert.deepEqual(srv.errors, []);
  assert.deepEqual(srv.accepted.map((p) => [p.sequenceToken, p.logEvents.map((e) => e.message)]), [['D', ['c']]]);
  assert.deepEqual(sink.stats(), { name: 'cloudwatch', queued: 0, sent: 4, dropped: 5, failedBatches: 1, retries: 0 });
});

test('network errors are retried, then the batch is counted as failed', async () => {
  const sink = new CloudWatchSink({ ...base, endpoint: 'http://127.0.0.1:1/', batch: { maxRetries: 2, backoffMs: 1 } });
  sink.write('x');
  await sink.close(3000);
  assert.deepEqual(sink.stats(), { name: 'cloudwatch', queued: 0, sent: 0, dropped: 1, failedBatches: 1, retries: 2 });
});
