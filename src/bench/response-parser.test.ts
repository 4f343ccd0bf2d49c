import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError, ResponseParser } from './response-parser.ts';

/** Feed `raw` split at every `step` bytes; returns the feed index that completed, or -1. */
function feedSplit(p: ResponseParser, raw: string, step: number): number {
  const buf = Buffer.from(raw, 'latin1');
  for (let off = 0, i = 0; off < buf.length; off += step, i++) {
    if (p.feed(buf.subarray(off, off + step))) return off + step >= buf.length ? i : -2;
  }
  return -1;
}

test('content-length response, whole or byte by byte', () => {
  const raw = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello';
  for (const step of [1, 3, 1000]) {
    const p = new ResponseParser();
    assert.ok(feedSplit(p, raw, step) >= 0, `step ${step}`);
    assert.equal(p.status, 200);
    assert.equal(p.bodyBytes, 5);
    assert.equal(p.keepAlive, true);
    assert.equal(p.close, false);
  }
});

test('chunked response with extensions and trailers, split anywhere', () => {
  const raw = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
    '5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n';
  for (const step of [1, 2, 7, 1000]) {
    const p = new ResponseParser();
    assert.ok(feedSplit(p, raw, step) >= 0, `step ${step}`);
    assert.equal(p.bodyBytes, 15);
    assert.equal(p.close, true);
  }
});

test('1xx interim responses are skipped; 204 has no body', () => {
  const p = new ResponseParser();
  assert.equal(p.feed(Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n')), true);
  assert.equal(p.status, 204);
  assert.equal(p.bodyBytes, 0);
});

test('a body without length ends when the peer closes', () => {
  const p = new ResponseParser();
  assert.equal(p.feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\nabc')), false);
  assert.equal(p.end(), true);
  assert.equal(p.bodyBytes, 3);
});

test('framing errors are protocol errors', () => {
  const bad = [
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabc', // more bytes than declared
    'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/2 200\r\n\r\n',
  ];
  for (const raw of bad) {
    assert.throws(() => new ResponseParser().feed(Buffer.from(raw)), ProtocolError, JSON.stringify(raw));
  }
});

test('a response cut short is not complete', () => {
  const p = new ResponseParser();
  assert.equal(p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')), false);
  assert.equal(p.end(), false);
});
