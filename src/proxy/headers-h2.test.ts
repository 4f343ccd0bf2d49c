import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardableH2RequestHeaders } from './headers.ts';

describe('forwardableH2RequestHeaders (HTTP/2 client → HTTP/1.1 upstream)', () => {
  it('drops pseudo-headers, hop-by-hop and gateway-made headers; joins split cookies with "; "', () => {
    const raw = [
      ':method', 'POST', ':path', '/a?b=1', ':authority', 'api.test', ':scheme', 'https',
      'cookie', 'a=1', 'accept', 'text/plain', 'cookie', 'b=2', 'te', 'trailers', 'host', 'api.test',
      'content-length', '5', 'x-forwarded-for', '10.0.0.1', 'x-multi', '1', 'x-multi', '2',
    ];
    assert.deepEqual(forwardableH2RequestHeaders(raw), ['accept', 'text/plain', 'x-multi', '1', 'x-multi', '2', 'cookie', 'a=1; b=2']);
  });

  it('adds no cookie when none was sent', () => {
    assert.deepEqual(forwardableH2RequestHeaders([':method', 'GET', 'x-a', '1']), ['x-a', '1']);
  });
});
