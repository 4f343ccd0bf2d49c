import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { Base64Decoder, decodeQuartets, encodeChunk, trailerFrame } from './grpc-web.ts';

describe('gRPC-Web trailer frame', () => {
  it('is 0x80, a big-endian length and name:value CRLF lines with lower-case names', () => {
    const frame = trailerFrame(['Grpc-Status', '0', 'grpc-message', 'ok', 'x-t', 'a']);
    assert.equal(frame[0], 0x80);
    const text = 'grpc-status:0\r\ngrpc-message:ok\r\nx-t:a\r\n';
    assert.equal(frame.readUInt32BE(1), text.length);
    assert.equal(frame.subarray(5).toString('latin1'), text);
  });
});

describe('base64 for grpc-web-text', () => {
  it('decodes concatenated padded segments', () => {
    const a = Buffer.from([1, 2, 3, 4]);
    const b = Buffer.from([5]);
    const c = Buffer.from([6, 7, 8]);
    const text = a.toString('base64') + b.toString('base64') + c.toString('base64');
    assert.deepEqual(decodeQuartets(text), Buffer.concat([a, b, c]));
  });

  it('the streaming decoder handles every chunk boundary', async () => {
    const payload = Buffer.from(Array.from({ length: 50 }, (_, i) => i * 7));
    const text = Buffer.from(payload.subarray(0, 11).toString('base64') + payload.subarray(11).toString('base64'));
    for (let cut = 1; cut < text.length; cut++) {
      const out = await buffer(Readable.from([text.subarray(0, cut), text.subarray(cut)]).pipe(new Base64Decoder()));
      assert.deepEqual(out, payload, `cut at ${cut}`);
    }
  });

  it('rejects non-base64 and truncated input', async () => {
    await assert.rejects(buffer(Readable.from([Buffer.from('AAA$')]).pipe(new Base64Decoder())), /not base64/);
    await assert.rejects(buffer(Readable.from([Buffer.from('AAAAA')]).pipe(new Base64Decoder())), /inside a base64 quartet/);
  });

  it('encodes each chunk on its own, padded', () => {
    assert.equal(encodeChunk(Buffer.from([1])).toString(), 'AQ==');
    assert.deepEqual(decodeQuartets(encodeChunk(Buffer.from('ab')).toString() + encodeChunk(Buffer.from('cde')).toString()), Buffer.from('abcde'));
  });
});
