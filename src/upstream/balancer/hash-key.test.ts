import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHashKey, findCookie, findQueryParam, type HashKeyInput } from './hash-key.ts';

const input = (over: Partial<HashKeyInput> = {}): HashKeyInput => ({ clientIp: '198.51.100.7', path: '/a/b', query: '', headers: {}, ...over });

describe('compileHashKey', () => {
  it('returns nothing for algorithms that do not hash', () => {
    for (const a of ['round-robin', 'weighted-round-robin', 'least-connections', 'random', 'p2c'] as const) {
      assert.equal(compileHashKey({ source: 'ip' }, a), undefined);
    }
  });

  it('defaults to the client IP for both hashing algorithms', () => {
    assert.equal(compileHashKey(undefined, 'ip-hash')!(input()), '198.51.100.7');
    assert.equal(compileHashKey(undefined, 'consistent-hash')!(input()), '198.51.100.7');
    assert.equal(compileHashKey({ source: 'ip' }, 'ip-hash')!(input({ clientIp: '' })), undefined);
  });

  it('header: case-insensitive name, first of repeated values, missing or empty → undefined', () => {
    const f = compileHashKey({ source: 'header', name: 'X-User-ID' }, 'consistent-hash')!;
    assert.equal(f(input({ headers: { 'x-user-id': 'u1' } })), 'u1');
    assert.equal(f(input({ headers: { 'x-user-id': ['u2', 'u3'] } })), 'u2');
    assert.equal(f(input({ headers: { 'x-user-id': '' } })), undefined);
    assert.equal(f(input({ headers: { other: 'x' } })), undefined);
  });

  it('cookie: finds only the named cookie', () => {
    const f = compileHashKey({ source: 'cookie', name: 'sid' }, 'consistent-hash')!;
    assert.equal(f(input({ headers: { cookie: 'sid=abc' } })), 'abc');
    assert.equal(f(input({ headers: { cookie: 'xsid=no; a=sid=no;  sid=yes ; b=2' } })), 'yes');
    assert.equal(f(input({ headers: { cookie: 'a=1; sid="quoted"' } })), 'quoted');
    assert.equal(f(input({ headers: { cookie: ['a=1', 'sid=crumb'] } as HashKeyInput['headers'] })), 'crumb');
    assert.equal(f(input({ headers: { cookie: 'a=1; sid=' } })), undefined);
    assert.equal(f(input({ headers: { cookie: 'a=1; sidx=2' } })), undefined);
    assert.equal(f(input()), undefined);
  });

  it('query: finds the named parameter, decodes safely', () => {
    const f = compileHashKey({ source: 'query', name: 'tenant' }, 'ip-hash')!;
    assert.equal(f(input({ query: 'tenant=acme' })), 'acme');
    assert.equal(f(input({ query: '?x=1&tenant=a%20b+c&tenant=second' })), 'a b c');
    assert.equal(f(input({ query: 'subtenant=no&xtenant=no' })), undefined);
    assert.equal(f(input({ query: 'tenant=%E0%A4%A' })), '%E0%A4%A', 'malformed escape stays raw');
    assert.equal(f(input({ query: 'tenant=&a=1' })), undefined);
    assert.equal(f(input({ query: 'tenant' })), undefined);
  });

  it('path: the normalized path', () => {
    const f = compileHashKey({ source: 'path' }, 'consistent-hash')!;
    assert.equal(f(input({ path: '/users/42' })), '/users/42');
    assert.equal(f(input({ path: '' })), '/');
  });

  it('rejects header, cookie and query sources without a name', () => {
    for (const source of ['header', 'cookie', 'query'] as const) {
      assert.throws(() => compileHashKey({ source }, 'consistent-hash'), { code: 'SLUICE_ERR_CONFIG_INVALID' });
    }
  });

  it('scanners handle edge positions', () => {
    assert.equal(findCookie('sid=1', 'sid='), '1');
    assert.equal(findCookie('a=b;sid=2', 'sid='), '2');
    assert.equal(findQueryParam('?k=v', 'k='), 'v');
    assert.equal(findQueryParam('a=1&k=v', 'k='), 'v');
  });
});
