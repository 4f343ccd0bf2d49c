import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors/index.ts';
import { fakeContext } from '../plugins/test-helpers.ts';
import type { RequestContext } from '../runtime/context.ts';
import { AccessLog, accessFormatter, accessLogSettings, clfTimestamp, escapeBare, escapeQuoted, formatAccessLine } from './access-log.ts';
import { REDACTED, Redactor } from './redact.ts';

const NOW = Date.parse('2000-10-10T13:55:36.123Z');

function ctx(overrides: Partial<RequestContext> = {}): RequestContext {
  return fakeContext({
    id: 'rid-1',
    status: 200,
    bytesSent: 2326,
    req: { httpVersion: '1.1' } as IncomingMessage,
    res: { writableFinished: true } as ServerResponse,
    ...overrides,
  });
}

const settings = (extra: Parameters<typeof accessLogSettings>[0] = true) => accessLogSettings(extra)!;

test('settings: true/undefined/object defaults, false and enabled:false switch it off', () => {
  assert.deepEqual(settings(true), { format: 'json', sampleRate: 1, alwaysLogErrors: true, requestHeaders: [], query: false });
  assert.deepEqual(accessLogSettings(undefined), settings(true));
  assert.equal(accessLogSettings(false), undefined);
  assert.equal(accessLogSettings({ enabled: false, format: 'combined' }), undefined);
  assert.equal(settings({ format: 'combined' }).format, 'combined');
});

test('json line: base fields, trace id, upstream time, bytes received, user agent', () => {
  const base = JSON.parse(formatAccessLine(ctx(), NOW, 12.34567));
  assert.equal(base.time, '2000-10-10T13:55:36.123Z');
  assert.equal(base.durationMs, 12.346);
  assert.equal(base.bytesReceived, 0);
  assert.equal(base.traceId, undefined, 'no trace id when empty');
  assert.equal(base.upstreamMs, undefined, 'no upstream time when none answered');
  const full = JSON.parse(
    formatAccessLine(ctx({ traceId: '0af7651916cd43dd8448eb211c80319c', upstreamMs: 3.21, bytesReceived: 17, headers: { 'user-agent': 'curl/8' } }), NOW, 1),
  );
  assert.equal(full.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(full.upstreamMs, 3.21);
  assert.equal(full.bytesReceived, 17);
  assert.equal(full.userAgent, 'curl/8');
  assert.equal(full.kind, 'access');
});

test('json line: configured request headers (redacted ones masked) and the masked query', () => {
  const redactor = new Redactor({ headers: ['x-custom-secret'], queryParams: ['sig'] });
  const format = accessFormatter(settings({ requestHeaders: ['Authorization', 'x-custom-secret', 'accept', 'x-absent', 'referer'], query: true }), redactor);
  const headers = { authorization: 'Bearer T0K', 'x-custom-secret': 'S3C', accept: 'text/plain', referer: 'http://r/?token=R3F' };
  const line = format(ctx({ headers, query: 'a=1&sig=SIG&api_key=KEY' }), NOW, 1);
  for (const s of ['T0K', 'S3C', 'SIG', 'KEY', 'R3F']) assert.ok(!line.includes(s), `${s} leaked: ${line}`);
  const parsed = JSON.parse(line);
  assert.deepEqual(parsed.requestHeaders, { authorization: REDACTED, 'x-custom-secret': REDACTED, accept: 'text/plain', referer: `http://r/?token=${REDACTED}` });
  assert.equal(parsed.query, `a=1&sig=${REDACTED}&api_key=${REDACTED}`);
  assert.equal(JSON.parse(format(ctx(), NOW, 1)).requestHeaders, undefined, 'no configured header present: no field');
  const noExtras = accessFormatter(settings(true), redactor);
  assert.equal(noExtras, formatAccessLine, 'nothing configured: the plain formatter itself');
});

test('combined line: Apache/nginx shape plus request id, duration and route', () => {
  assert.equal(clfTimestamp(NOW), '10/Oct/2000:13:55:36 +0000');
  const format = accessFormatter(settings({ format: 'combined', query: true }), new Redactor());
  const line = format(ctx({ query: 'q=1&token=T', headers: { referer: 'http://ref/', 'user-agent': 'Mozilla/5.0 (X11)' } }), NOW, 12.5);
  assert.equal(
    line,
    `192.0.2.10 - - [10/Oct/2000:13:55:36 +0000] "GET /users/42?q=1&token=${REDACTED} HTTP/1.1" 200 2326 "http://ref/" "Mozilla/5.0 (X11)" rid=rid-1 dur=12.5 route=users\n`,
  );
  const bare = accessFormatter(settings({ format: 'combined' }), new Redactor())(
    ctx({ bytesSent: 0, status: 502, route: undefined, query: 'x=1', error: new GatewayError('SLUICE_ERR_UPSTREAM_CONNECT') }),
    NOW,
    1,
  );
  assert.equal(bare, '192.0.2.10 - - [10/Oct/2000:13:55:36 +0000] "GET /users/42 HTTP/1.1" 502 - "-" "-" rid=rid-1 dur=1 err=SLUICE_ERR_UPSTREAM_CONNECT\n');
});

test('combined line: client-controlled strings cannot end a field or forge a line', () => {
  assert.equal(escapeQuoted('plain text/1.0'), 'plain text/1.0');
  assert.equal(escapeQuoted('a"b\\c\r\nd\te\u2028'), 'a\\"b\\\\c\\x0d\\x0ad\\x09e\\u2028');
  assert.equal(escapeBare('id with space"'), 'id\\x20with\\x20space\\"');
  const format = accessFormatter(settings({ format: 'combined' }), new Redactor());
  const evil = 'x" 200 1 "-" "-" rid=forged\n1.2.3.4 - - [01/Jan/2000:00:00:00 +0000] "GET / HTTP/1.1" 200';
  const line = format(ctx({ id: 'a b\nrid=x', path: '/p"q', headers: { 'user-agent': evil, referer: 'r"\r\n' } }), NOW, 1);
  assert.equal(line.indexOf('\n'), line.length - 1, 'one line');
  assert.ok(!line.includes('\r'));
  // Every quote left unescaped is one of the six field delimiters.
  assert.equal(line.match(/(?<!\\)"/g)!.length, 6, line);
  assert.match(line, / rid=a\\x20b\\x0arid=x dur=1 /);
});

test('sampling: the configured share is logged, errors always, the rest counted', () => {
  const lines: string[] = [];
  const log = new AccessLog();
  log.configure(settings({ sampleRate: 0 }), [{ write: (l: string) => lines.push(l) }], new Redactor());
  for (let i = 0; i < 50; i++) log.write(ctx({ id: `ok-${i}` }), 1);
  log.write(ctx({ id: 'five-hundred', status: 503 }), 1);
  log.write(ctx({ id: 'gateway-error', status: 499, error: new GatewayError('SLUICE_ERR_CLIENT_ABORTED') }), 1);
  assert.deepEqual(lines.map((l) => JSON.parse(l).requestId), ['five-hundred', 'gateway-error']);
  assert.equal(log.sampledOut, 50);

  log.configure(settings({ sampleRate: 0, alwaysLogErrors: false }), [{ write: (l: string) => lines.push(l) }], new Redactor());
  log.write(ctx({ status: 500 }), 1);
  assert.equal(lines.length, 2);
  assert.equal(log.sampledOut, 51, 'counter kept across reconfiguration');

  const kept: string[] = [];
  log.configure(settings({ sampleRate: 0.25 }), [{ write: (l: string) => kept.push(l) }], new Redactor());
  for (let i = 0; i < 4000; i++) log.write(ctx(), 1);
  assert.ok(kept.length > 800 && kept.length < 1200, `about a quarter kept, got ${kept.length}`);
  assert.equal(kept.length + log.sampledOut - 51, 4000);
});

test('one line goes to every destination; the single-sink constructor keeps the old behaviour', () => {
  const a: string[] = [];
  const b: string[] = [];
  const log = new AccessLog();
  log.configure(settings(true), [{ write: (l: string) => a.push(l) }, { write: (l: string) => b.push(l) }], new Redactor());
  log.write(ctx(), 1);
  assert.equal(a.length, 1);
  assert.deepEqual(a, b);
  const c: string[] = [];
  new AccessLog({ write: (l: string) => c.push(l) }).write(ctx(), 1);
  assert.equal(JSON.parse(c[0]!).requestId, 'rid-1');
});

test('json line stays valid JSON and one line whatever the client sends (quotes, backslashes, controls, lone surrogates)', () => {
  for (const nasty of ['/a"b', '/a\\b', '/a\nb\r\t', '/\u0000\u001f', '/\ud800x', '/ü€😀', '/x\u2028y']) {
    const line = formatAccessLine(ctx({ path: nasty, host: nasty, headers: { 'user-agent': nasty } }), NOW, 1);
    assert.equal(line.indexOf('\n'), line.length - 1, `one line for ${JSON.stringify(nasty)}`);
    const parsed = JSON.parse(line);
    assert.equal(parsed.path, nasty);
    assert.equal(parsed.userAgent, nasty);
    // Pure ASCII (non-ASCII as \uXXXX), so the stdout writer may copy it byte for byte.
    assert.match(line, /^[\x20-\x7e]*\n$/);
  }
  const combined = accessFormatter(settings({ format: 'combined' }), new Redactor());
  const line = combined(ctx({ path: '/ü€😀"\n', headers: { 'user-agent': 'é\r' }, req: { httpVersion: '1.1' } as IncomingMessage }), NOW, 1);
  assert.match(line, /^[\x20-\x7e]*\n$/);
});
