import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandPath, parsePattern } from './paths.ts';
import { allHold, compilePredicates, headerValueHolds, queryValueHolds } from './predicates.ts';
import { request } from './test-helpers.ts';

const is = (expected: string) => (value: string) => value === expected;

describe('queryValueHolds', () => {
  it('finds a parameter among others, any of its values, and form-decodes', () => {
    assert.equal(queryValueHolds('a=1&b=2&c=3', 'b', is('2')), true);
    assert.equal(queryValueHolds('a=1&ab=2', 'b', is('2')), false, 'no partial key match');
    assert.equal(queryValueHolds('b=1&b=2', 'b', is('2')), true);
    assert.equal(queryValueHolds('b=x+y%21', 'b', is('x y!')), true);
    assert.equal(queryValueHolds('b%5B%5D=1', 'b[]', is('1')), true);
    assert.equal(queryValueHolds('b=%zz', 'b', is('%zz')), true, 'malformed escapes compare as sent');
    assert.equal(queryValueHolds('b', 'b', is('')), true, 'no "=" means an empty value');
    assert.equal(queryValueHolds('&&b=&', 'b', is('')), true);
    assert.equal(queryValueHolds('', 'b', () => true), false);
    assert.equal(queryValueHolds('a=b=c', 'a', is('b=c')), true);
  });
});

describe('headerValueHolds', () => {
  it('checks a value, array elements and comma-separated members', () => {
    assert.equal(headerValueHolds(undefined, () => true), false);
    assert.equal(headerValueHolds('a, b', is('a, b')), true);
    assert.equal(headerValueHolds('a, b', is('b')), true);
    assert.equal(headerValueHolds(['x', 'y,z'], is('z')), true);
    assert.equal(headerValueHolds(['x'], is('y')), false);
  });
});

describe('compilePredicates', () => {
  it('lower-cases header names and anchors regexes', () => {
    const predicates = compilePredicates([{ name: 'X-Ver', regex: 'v\\d' }], [{ name: 'q', present: true }]);
    assert.equal(allHold(predicates, request('/', { headers: { 'x-ver': 'v2' }, query: 'q=' })), true);
    assert.equal(allHold(predicates, request('/', { headers: { 'x-ver': 'v2x' }, query: 'q=' })), false);
    assert.equal(allHold(predicates, request('/', { headers: { 'x-ver': 'v2' } })), false);
  });

  it('rejects a predicate without a test', () => {
    assert.throws(() => compilePredicates([{ name: 'x' }]), /exactly one of/);
  });
});

describe('parsePattern and expandPath', () => {
  it('gives equal keys to patterns that differ only in parameter names', () => {
    const key = (p: string) => parsePattern(p).key;
    assert.equal(key('/a/:x/b'), key('/a/:y/b'));
    assert.equal(key('/a/:x(^\\d+)'), key('/a/:y(^\\d+)'));
    assert.notEqual(key('/a/:x(^\\d+)'), key('/a/:x(^\\w+)'));
    assert.equal(key('/f/:n.png'), key('/f/:m.png'));
    assert.notEqual(key('/a::b'), key('/a:b'));
    assert.deepEqual(parsePattern('/f/:name.:ext/:id(^\\d+)/*').names, ['name', 'ext', 'id', '*']);
    assert.deepEqual(parsePattern('/a::b/:c').names, ['c']);
  });

  it('expands optional params and wildcard prefixes', () => {
    assert.deepEqual(expandPath('/posts/:id?').map((v) => [v.path, v.derived]), [['/posts/:id', false], ['/posts', true]]);
    assert.deepEqual(expandPath('/:id?').map((v) => v.path), ['/:id', '/']);
    assert.deepEqual(expandPath('/static/*').map((v) => [v.path, v.wildcardPrefix]), [['/static/*', false], ['/static', true]]);
    assert.deepEqual(expandPath('/*').map((v) => v.path), ['/*']);
    assert.deepEqual(expandPath('/a*').map((v) => v.path), ['/a*']);
  });
});
