import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { ConnectionTracker } from './connection-tracker.ts';

/** Poll until `check` passes (socket events arrive asynchronously). */
async function until(check: () => void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function get(port: number, agent: http.Agent, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe('ConnectionTracker', () => {
  it('tracks open, total and idle keep-alive connections of an http server', async () => {
    const held: http.ServerResponse[] = [];
    const server = http.createServer((req, res) => {
      if (req.url === '/hold') held.push(res);
      else res.end('ok');
    });
    const tracker = new ConnectionTracker('public');
    tracker.attach(server);
    const port = await listen(server);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
    try {
      assert.deepEqual(tracker.stats(), { listener: 'public', open: 0, total: 0, idle: 0 });
      const pending = [get(port, agent, '/hold'), get(port, agent, '/hold'), get(port, agent, '/hold')];
      await until(() => assert.equal(held.length, 3));
      assert.deepEqual(tracker.stats(), { listener: 'public', open: 3, total: 3, idle: 0 });
      for (const res of held.splice(0)) res.end('done');
      assert.deepEqual(await Promise.all(pending), ['done', 'done', 'done']);
      await until(() => assert.deepEqual(tracker.stats(), { listener: 'public', open: 3, total: 3, idle: 3 }));
      // Reused keep-alive connections: no new ones.
      for (let i = 0; i < 5; i++) assert.equal(await get(port, agent), 'ok');
      await until(() => assert.deepEqual(tracker.stats(), { listener: 'public', open: 3, total: 3, idle: 3 }));
      agent.destroy();
      await until(() => assert.deepEqual(tracker.stats(), { listener: 'public', open: 0, total: 3, idle: 0 }));
      const fresh = new http.Agent({ keepAlive: true });
      assert.equal(await get(port, fresh), 'ok');
      await until(() => assert.deepEqual(tracker.stats(), { listener: 'public', open: 1, total: 4, idle: 1 }));
      fresh.destroy();
      await until(() => assert.equal(tracker.stats().open, 0));
    } finally {
      agent.destroy();
      server.closeAllConnections();
      server.close();
    }
  });

  it('frees a busy connection whose client goes away mid-request', async () => {
    const server = http.createServer(() => {
      // never answers
    });
    const tracker = new ConnectionTracker('slow');
    tracker.attach(server);
    const port = await listen(server);
    try {
      const socket = net.connect(port, '127.0.0.1');
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await until(() => assert.deepEqual(tracker.stats(), { listener: 'slow', open: 1, total: 1, idle: 0 }));
      socket.destroy();
      await until(() => assert.deepEqual(tracker.stats(), { listener: 'slow', open: 0, total: 1, idle: 0 }));
      const next = net.connect(port, '127.0.0.1');
      await until(() => assert.deepEqual(tracker.stats(), { listener: 'slow', open: 1, total: 2, idle: 1 }));
      next.destroy();
      await until(() => assert.equal(tracker.stats().open, 0));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('counts plain TCP connections of a net.Server', async () => {
    const server = net.createServer(() => {});
    const tracker = new ConnectionTracker('tcp');
    tracker.attach(server);
    const port = await listen(server);
    try {
      const a = net.connect(port, '127.0.0.1');
      const b = net.connect(port, '127.0.0.1');
      await until(() => assert.deepEqual(tracker.stats(), { listener: 'tcp', open: 2, total: 2, idle: 2 }));
      a.destroy();
      await until(() => assert.deepEqual(tracker.stats(), { listener: 'tcp', open: 1, total: 2, idle: 1 }));
      b.destroy();
      await until(() => assert.equal(tracker.stats().open, 0));
    } finally {
      server.close();
    }
  });

  it('keeps the automatic 100-continue when nobody handles checkContinue', async () => {
    const server = http.createServer((req, res) => req.resume().on('end', () => res.end('got it')));
    new ConnectionTracker('c').attach(server);
    assert.equal(server.listenerCount('checkContinue'), 0);
    const port = await listen(server);
    const agent = new http.Agent({ keepAlive: false });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', agent, headers: { expect: '100-continue' } });
        req.on('continue', () => req.end('payload'));
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
      });
      assert.equal(body, 'got it');
    } finally {
      agent.destroy();
      server.closeAllConnections();
      server.close();
    }
  });
});
