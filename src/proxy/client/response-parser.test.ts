import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EOF_COMPLETE, EOF_IDLE, EOF_TRUNCATED, ResponseParser, type ParserEvents } from './response-parser.ts';

interface Seen {
  info: [number, string[]][];
  head: [number, string, string[]] | undefined;
  body: string;
  trailers: string[] | undefined;
  reusable: boolean | undefined;
  error: string | undefined;
}

function recorder(): { parser: ResponseParser; seen: Seen } {
  const seen: Seen = { info: [], head: undefined, body: '', trailers: undefined, reusable: undefined, error: undefined };
  const events: ParserEvents = {
    onInformational: (s, h) => void seen.info.push([s, h]),
    onResponseHead: (s, r, h) => void (seen.head = [s, r, h]),
    onBody: (c) => void (seen.body += c.toString('latin1')),
    onMessageComplete: (t, r) => void Object.assign(seen, { trailers: t, reusable: r }),
    onParseError: (d) => void (seen.error = d),
  };
  return { parser: new ResponseParser(events), seen };
}

function parse(text: string, noBody = false, splits: number[] = []): Seen {
  const { parser, seen } = recorder();
  parser.reset(noBody);
  const buf = Buffer.from(text, 'latin1');
  let at = 0;
  for (const s of [...splits, buf.length]) {
    parser.execute(buf.subarray(at, s));
    at = s;
  }
  return seen;
}

const CHUNKED =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Long: ' + 'v'.repeat(300) + '\r\n\r\n' +
  '4\r\nwiki\r\n5 ; name="quoted; value"\r\npedia\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\nX-B: 2\r\n\r\n';

describe('ResponseParser', () => {
  it('parses a Content-Length response', () => {
    const s = parse('HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A:  spaced  \r\n\r\nhello');
    assert.deepEqual(s.head, [201, 'Created', ['Content-Length', '5', 'X-A', 'spaced']]);
    assert.equal(s.body, 'hello');
    assert.deepEqual(s.trailers, []);
    assert.equal(s.reusable, true);
  });

  it('gives identical results for a chunked response split at every byte', () => {
    const whole = parse(CHUNKED);
    assert.equal(whole.body, 'wikipedia0123456789');
    assert.deepEqual(whole.trailers, ['X-Sum', '1', 'X-B', '2']);
    for (let i = 1; i < CHUNKED.length; i++) assert.deepEqual(parse(CHUNKED, false, [i]), whole, `split at ${i}`);
    const bytes = Array.from({ length: CHUNKED.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(parse(CHUNKED, false, bytes), whole);
  });

  it('reports 1xx responses and continues with the final one', () => {
    const text = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx';
    for (const splits of [[], [10], [25], [26], [60]]) {
      const s = parse(text, false, splits);
      assert.deepEqual(s.info, [[100, []], [103, ['Link', '</x>']]]);
      assert.equal(s.head?.[0], 200);
      assert.equal(s.body, 'x');
    }
  });

  it('accepts an empty reason phrase, obs-text, and repeated identical Content-Length', () => {
    assert.deepEqual(parse('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n').head?.slice(0, 2), [200, '']);
    assert.deepEqual(parse('HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n').head?.slice(0, 2), [200, '']);
    assert.equal(parse('HTTP/1.1 200 OK\r\nX: caf\xe9\r\nContent-Length: 0\r\n\r\n').head?.[2][1], 'caf\xe9');
    assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\ncontent-length: 2\r\n\r\nok').body, 'ok');
  });

  it('has no body for HEAD, 204 and 304 whatever the framing headers say', () => {
    const head = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', true);
    assert.equal(head.reusable, true);
    assert.equal(parse('HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n').reusable, true);
    assert.equal(parse('HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n').reusable, true);
  });

  it('marks the message non-reusable for Connection: close, HTTP/1.0 and stray bytes', () => {
    assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n').reusable, false);
    assert.equal(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').reusable, false);
    const stray = parse('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP');
    assert.equal(stray.body, 'x');
    assert.equal(stray.reusable, false);
  });

  it('reads the Keep-Alive timeout hint', () => {
    const { parser } = recorder();
    for (const [value, ms] of [['timeout=5, max=1000', 5000], ['max=3,timeout = 7', 7000], ['max=5', -1], ['xtimeout=5', -1]] as const) {
      parser.reset(false);
      parser.execute(Buffer.from(`HTTP/1.1 200 OK\r\nKeep-Alive: ${value}\r\nContent-Length: 0\r\n\r\n`));
      assert.equal(parser.keepAliveHintMs, ms, value);
    }
  });

  it('completes a read-until-close body on EOF, and tells truncation from silence', () => {
    const { parser, seen } = recorder();
    parser.reset(false);
    assert.equal(parser.finish(), EOF_IDLE);
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome'));
    assert.equal(parser.finish(), EOF_COMPLETE);
    assert.equal(seen.body, 'some');
    assert.equal(seen.reusable, false);
    parser.reset(false);
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nsome'));
    assert.equal(parser.finish(), EOF_TRUNCATED);
  });

  const malformed: [string, string][] = [
    ['bare LF', 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n'],
    ['bare LF in a header', 'HTTP/1.1 200 OK\r\nX: a\nContent-Length: 0\r\n\r\n'],
    ['bare CR', 'HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n'],
    ['space before colon', 'HTTP/1.1 200 OK\r\nX : a\r\n\r\n'],
    ['empty header name', 'HTTP/1.1 200 OK\r\n: a\r\n\r\n'],
    ['NUL in value', 'HTTP/1.1 200 OK\r\nX: a\0\r\n\r\n'],
    ['DEL in value', 'HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n'],
    ['HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n'],
    ['lower-case version', 'http/1.1 200 OK\r\n\r\n'],
    ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['status 099', 'HTTP/1.1 099 X\r\n\r\n'],
    ['no space after status', 'HTTP/1.1 200OK\r\n\r\n'],
    ['empty status line', '\r\nHTTP/1.1 200 OK\r\n\r\n'],
    ['101', 'HTTP/1.1 101 Switching Protocols\r\n\r\n'],
    ['CL and TE', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n'],
    ['differing CL', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'],
    ['differing CL list', 'HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\n'],
    ['signed CL', 'HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\n'],
    ['hex CL', 'HTTP/1.1 200 OK\r\nContent-Length: 0x3\r\n\r\n'],
    ['empty CL', 'HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n'],
    ['huge CL', 'HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n'],
    ['TE gzip', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'],
    ['TE chunked twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['TE list', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n'],
    ['chunk size not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\ng\r\n'],
    ['empty chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n'],
    ['signed chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n'],
    ['overlong chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000000000001\r\n'],
    ['bare LF after chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n'],
    ['whitespace without extension', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n'],
    ['control char in extension', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;a\x01\r\nx\r\n'],
    ['LF in extension', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;a\nx\r\n'],
    ['chunk data overrun', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n'],
    ['bare LF after chunk data', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\n0\r\n\r\n'],
    ['bad trailer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX : 1\r\n\r\n'],
    ['bare LF ending trailers', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n'],
  ];
  for (const [what, text] of malformed) {
    it(`rejects ${what}`, () => {
      const s = parse(text);
      assert.ok(s.error !== undefined, 'no error');
      assert.equal(s.trailers, undefined, 'must not complete');
      for (let i = 1; i < text.length; i += 3) assert.ok(parse(text, false, [i]).error !== undefined, `split ${i}`);
    });
  }

  it('rejects a head over 64 KiB, also when it arrives in small pieces', () => {
    const text = 'HTTP/1.1 200 OK\r\n' + 'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(1600) + '\r\n';
    assert.match(parse(text).error ?? '', /too large/);
    const splits = Array.from({ length: Math.floor(text.length / 1000) }, (_, i) => (i + 1) * 1000);
    assert.match(parse(text, false, splits).error ?? '', /too large/);
    const oneLine = 'HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(70_000);
    assert.match(parse(oneLine, false, [100, 40_000]).error ?? '', /too large/);
  });

  it('stops for good after halt()', () => {
    const { parser, seen } = recorder();
    parser.reset(false);
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab'));
    parser.halt();
    parser.execute(Buffer.from('cd'));
    assert.equal(seen.body, 'ab');
    assert.equal(seen.trailers, undefined);
  });
});
