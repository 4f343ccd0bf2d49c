import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger.ts';
import { REDACTED, Redactor } from './redact.ts';

test('maskQuery masks default and configured parameters, any case, percent-encoded names too', () => {
  const r = new Redactor({ queryParams: ['sig'] });
  assert.equal(r.maskQuery(''), '');
  const plain = 'a=1&b=2';
  assert.equal(r.maskQuery(plain), plain);
  assert.equal(r.maskQuery('a=1&api_key=K1&SIG=s2&Token=t3'), `a=1&api_key=${REDACTED}&SIG=${REDACTED}&Token=${REDACTED}`);
  assert.equal(r.maskQuery('api%5Fkey=K1&x=%zz'), `api%5Fkey=${REDACTED}&x=%zz`);
  assert.equal(r.maskQuery('sig&sig=1'), `sig&sig=${REDACTED}`); // a bare name has no value to hide
  assert.equal(r.maskQuery('signature=keep&password='), `signature=keep&password=${REDACTED}`);
});

test('maskString masks parameters inside URLs and messages, leaves the rest', () => {
  const r = new Redactor({ queryParams: ['sig'] });
  assert.equal(r.maskString('GET /x?sig=abc&q=1 failed'), `GET /x?sig=${REDACTED}&q=1 failed`);
  assert.equal(r.maskString('http://h/p?access_token=zz#frag'), `http://h/p?access_token=${REDACTED}#frag`);
  assert.equal(r.maskString('password=hunter2'), `password=${REDACTED}`);
  assert.equal(r.maskString('nosig=1&design=2'), 'nosig=1&design=2');
  assert.equal(r.maskString('no equals sign'), 'no equals sign');
});

test('redact walks objects at any depth, masks keys case-insensitively and never mutates the input', () => {
  const r = new Redactor({ headers: ['X-Custom-Secret'], bodyFields: ['creditCard'] });
  const input = {
    msg: 'x',
    headers: { Authorization: 'Bearer A', cookie: 'c=1', 'x-custom-secret': 'S', accept: '*/*' },
    body: { user: { name: 'ada', CreditCard: '4111', nested: [{ creditcard: '4222' }] } },
    url: '/p?token=T&x=1',
    rawHeaders: ['Authorization', 'Bearer B', 'X-Api-Key', 'K', 'Accept', 'text/plain'],
    count: 3,
    empty: null,
  };
  const snapshot = structuredClone(input);
  const out = r.redact(input);
  assert.deepEqual(input, snapshot, 'input untouched');
  assert.deepEqual(out, {
    msg: 'x',
    headers: { Authorization: REDACTED, cookie: REDACTED, 'x-custom-secret': REDACTED, accept: '*/*' },
    body: { user: { name: 'ada', CreditCard: REDACTED, nested: [{ creditcard: REDACTED }] } },
    url: `/p?token=${REDACTED}&x=1`,
    rawHeaders: ['Authorization', REDACTED, 'X-Api-Key', REDACTED, 'Accept', 'text/plain'],
    count: 3,
    empty: null,
  });
  const clean = { a: { b: [1, 'two'] } };
  assert.equal(r.redact(clean), clean, 'nothing to mask: same object back');
});

test('redact handles errors, cycles, class instances and updated lists', () => {
  const r = new Redactor();
  const err = Object.assign(new Error('POST http://h/?api_key=K failed'), { password: 'P', detail: { token: 'T' } });
  const out = r.redact({ err }) as unknown as { err: Record<string, unknown> };
  assert.equal(out.err.message, `POST http://h/?api_key=${REDACTED} failed`);
  assert.equal(out.err.password, REDACTED);
  assert.deepEqual(out.err.detail, { token: REDACTED });
  assert.equal(out.err.type, 'Error');
  const cyclic: Record<string, unknown> = { secret: 's' };
  cyclic.self = cyclic;
  assert.equal((r.redact(cyclic) as Record<string, unknown>).secret, REDACTED);
  class Box {
    headers = { 'x-api-key': 'k' };
  }
  assert.deepEqual(r.redact({ box: new Box() }), { box: { headers: { 'x-api-key': REDACTED } } });
  assert.deepEqual(r.redact({ u: new URL('http://h/?token=abc') }), { u: `http://h/?token=${REDACTED}` });
  assert.deepEqual(r.redact({ pin: '1234' }), { pin: '1234' });
  r.update({ bodyFields: ['PIN'] });
  assert.deepEqual(r.redact({ pin: '1234' }), { pin: REDACTED });
  r.update(undefined);
  assert.deepEqual(r.redact({ pin: '1234' }), { pin: '1234' });
});

test('a logger built with the redactor masks objects and message strings', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const redactor = new Redactor({ bodyFields: ['password'], headers: ['x-custom'] });
  const logger = createLogger({ destination, redactor });
  logger.child({ module: 'plugins' }).info({ body: { a: { b: { password: 'deep-secret' } } }, headers: { 'X-Custom': 'hdr-secret' } }, 'GET /?token=msg-secret');
  logger.info('plain %s', 'arg?secret=fmt-secret');
  const text = lines.join('');
  for (const s of ['deep-secret', 'hdr-secret', 'msg-secret', 'fmt-secret']) assert.ok(!text.includes(s), `${s} leaked: ${text}`);
  assert.match(text, /"module":"plugins"/);
  assert.equal(text.split(REDACTED).length - 1, 4);
});
