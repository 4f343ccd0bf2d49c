import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { classifyPreface, H2_PREFACE, sniffPreface } from './h2-sniff.ts';

describe('classifyPreface', () => {
  it('decides at the first differing byte, and only after all 24 bytes for h2', () => {
    assert.equal(classifyPreface(Buffer.from('G')), 'http1');
    assert.equal(classifyPreface(Buffer.from('P')), 'more');
    assert.equal(classifyPreface(Buffer.from('POST / HTTP/1.1\r\n')), 'http1');
    assert.equal(classifyPreface(Buffer.from('PRI * HTTP/2.0\r\n')), 'more');
    assert.equal(classifyPreface(H2_PREFACE.subarray(0, 23)), 'more');
    assert.equal(classifyPreface(H2_PREFACE), 'h2');
    assert.equal(classifyPreface(Buffer.concat([H2_PREFACE, Buffer.from([0, 0, 0, 4])])), 'h2');
    // "PRI * HTTP/2.0" with something else after the request line is not the preface.
    assert.equal(classifyPreface(Buffer.from('PRI * HTTP/2.0\r\nHost: a\r\n\r\n')), 'http1');
  });
});

describe('sniffPreface on real sockets', () => {
  let server: net.Server;
  let port: number;
  const results: Array<{ kind: string; bytes: string }> = [];
  const closed: string[] = [];

  before(async () => {
    server = net.createServer((socket) => {
      socket.on('close', () => closed.push('closed'));
      sniffPreface(socket, 300, (kind) => {
        // The bytes read while sniffing are back in the socket, nothing lost.
        socket.once('data', (d: Buffer) => {
          results.push({ kind, bytes: d.toString('latin1') });
          socket.end();
        });
        socket.resume();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function send(parts: string[], gapMs: number): Promise<void> {
    return new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => resolve());
      s.resume();
      parts.forEach((p, i) => setTimeout(() => s.write(p), i * gapMs));
    });
  }

  it('a preface split across reads is h2; a one-byte HTTP/1.1 start is http1', async () => {
    results.length = 0;
    await send(['PRI * HTT', 'P/2.0\r\n\r\nSM\r\n\r\n'], 50);
    await send(['GET / HTTP/1.1\r\n\r\n'], 0);
    assert.deepEqual(results, [
      { kind: 'h2', bytes: H2_PREFACE.toString('latin1') },
      { kind: 'http1', bytes: 'GET / HTTP/1.1\r\n\r\n' },
    ]);
  });

  it('a client that stops inside the preface is cut at the timeout', async () => {
    results.length = 0;
    closed.length = 0;
    await send(['PRI * HTTP'], 0);
    assert.deepEqual(results, []);
    assert.equal(closed.length, 1);
  });
});
