import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startGateway, startUpstream, type TestGateway, type TestServer } from '../helpers/servers.ts';

interface Received {
  /** ms from sending the request to each event's arrival */
  at: number[];
  /** arrival time minus the upstream's send time carried in the event, ms */
  lag: number[];
  headers: http.IncomingHttpHeaders;
  outcome: 'end' | 'error';
}

/** Read a server-sent event stream, timing each event as it arrives. */
function readEvents(url: string): Promise<Received> {
  return new Promise((resolve) => {
    const started = Date.now();
    const got: Received = { at: [], lag: [], headers: {}, outcome: 'error' };
    let buffer = '';
    const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      got.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) !== -1) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const now = Date.now();
          got.at.push(now - started);
          const sent = /^data: (\d+)$/m.exec(event);
          if (sent) got.lag.push(now - Number(sent[1]));
        }
      });
      res.on('end', () => resolve({ ...got, outcome: 'end' }));
      res.on('error', () => resolve(got));
      res.on('aborted', () => resolve(got));
    });
    req.on('error', () => resolve(got));
  });
}

describe('server-sent events and long responses', () => {
  let upstream: TestServer;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const count = req.url === '/stall' ? 1 : 10;
      const gap = 250;
      let sent = 0;
      const send = (): void => {
        res.write(`data: ${Date.now()}\n\n`);
        if (++sent === count) {
          // /stall: one event, then silence longer than the body idle timeout.
          if (req.url === '/stall') return;
          res.end();
          return;
        }
        setTimeout(send, gap);
      };
      send();
    });
    gw = await startGateway({
      // Both timeouts are shorter than the whole stream (10 events × 250 ms), longer than one gap.
      upstreams: [{ name: 'events', targets: [{ url: upstream.url }], timeouts: { response: '1s', bodyIdle: '600ms' } }],
      routes: [{ name: 'events', match: { paths: ['/*'] }, upstream: 'events' }],
    });
  });

  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('delivers each event as it is written: first event at once, no buffering on the way', async () => {
    const got = await readEvents(`${gw.url}/events`);
    assert.equal(got.outcome, 'end');
    assert.equal(got.headers['content-type'], 'text/event-stream');
    assert.equal(got.headers['content-length'], undefined);
    assert.equal(got.at.length, 10);
    assert.ok(got.at[0]! < 200, `first event after ${got.at[0]} ms`);
    // Each event arrives within a fraction of the 250 ms gap of being written upstream.
    assert.ok(Math.max(...got.lag) < 150, `event lags ${got.lag.join(', ')} ms`);
  });

  it('keeps a stream longer than the response and body-idle timeouts open while events flow', async () => {
    const got = await readEvents(`${gw.url}/events`);
    assert.equal(got.outcome, 'end');
    assert.ok(got.at.at(-1)! > 2000, `stream lasted ${got.at.at(-1)} ms`);
  });

  it('cuts a stream that goes silent past the body idle timeout', async () => {
    const got = await readEvents(`${gw.url}/stall`);
    assert.equal(got.at.length, 1);
    assert.equal(got.outcome, 'error');
  });
});
