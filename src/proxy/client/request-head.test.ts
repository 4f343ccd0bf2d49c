import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { isGatewayError } from '../../errors/index.ts';
import { get } from './harness.test.ts';
import { prepareHead, validateCall } from './request-head.ts';

describe('prepareHead', () => {
  it('builds one head string with the framing the body needs', () => {
    const body = new PassThrough();
    assert.equal(prepareHead(get('/a?b')).head, 'GET /a?b HTTP/1.1\r\nHost: upstream.test\r\n\r\n');
    assert.equal(prepareHead(get('/', { method: 'POST' })).head, 'POST / HTTP/1.1\r\nHost: upstream.test\r\nContent-Length: 0\r\n\r\n');
    assert.equal(prepareHead(get('/', { method: 'DELETE' })).head, 'DELETE / HTTP/1.1\r\nHost: upstream.test\r\n\r\n');
    assert.match(prepareHead(get('/', { method: 'PUT', body, contentLength: 12 })).head, /\r\nContent-Length: 12\r\n\r\n$/);
    assert.match(prepareHead(get('/', { method: 'PUT', body })).head, /\r\nTransfer-Encoding: chunked\r\n\r\n$/);
  });

  it('drops caller framing headers and notices Connection: close', () => {
    const p = prepareHead(get('/', {
      headers: ['Host', 'h', 'content-length', '5', 'Transfer-Encoding', 'chunked', 'Connection', 'foo, close'],
    }));
    assert.equal(p.head, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n');
    assert.equal(p.close, true);
    assert.equal(prepareHead(get('/', { headers: ['Connection', 'closed'] })).close, false);
    assert.deepEqual(validateCall(get('/', { headers: ['A', '1', 'Content-Length', '2'] })), ['A', '1']);
  });

  it('throws SLUICE_ERR_BAD_REQUEST for unsafe input', () => {
    const bad = [
      get('/', { headers: ['X', 'a\rb'] }),
      get('/', { headers: ['X', 'a\nb'] }),
      get('/', { headers: ['X', 'a\0b'] }),
      get('/', { headers: ['X', '\u0100'] }),
      get('/', { headers: ['X:', 'a'] }),
      get('/', { headers: ['', 'a'] }),
      get('/', { headers: ['X'] }),
      get('/a\r\nX: y'),
      get('/a b'),
      get(''),
      get('/', { method: 'GET /x' }),
      get('/', { contentLength: -1, body: new PassThrough() }),
    ];
    for (const call of bad) {
      for (const fn of [prepareHead, validateCall]) {
        assert.throws(() => fn(call), (e: unknown) => isGatewayError(e) && e.code === 'SLUICE_ERR_BAD_REQUEST');
      }
    }
  });
});
