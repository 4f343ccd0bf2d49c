import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizePath, removeDotSegments } from './normalize.ts';

function path(target: string): string | null {
  return normalizePath(target)?.path ?? null;
}

describe('normalizePath', () => {
  it('splits the query at the first "?" and keeps it raw', () => {
    assert.deepEqual(normalizePath('/a/b?x=1&y=%20?z'), { path: '/a/b', query: 'x=1&y=%20?z' });
    assert.deepEqual(normalizePath('/a?'), { path: '/a', query: '' });
    assert.deepEqual(normalizePath('/'), { path: '/', query: '' });
  });

  it('returns an already-normal path unchanged', () => {
    const target = '/api/v1/users/42';
    assert.equal(path(target), target);
    assert.equal(path('/.well-known/x'), '/.well-known/x');
    assert.equal(path('/a/..b/c.'), '/a/..b/c.');
    assert.equal(path('/a%2Fb'), '/a%2Fb', '%2F stays encoded');
  });

  it('resolves dot segments, plain and encoded', () => {
    const cases: Array<[string, string]> = [
      ['/public/../admin', '/admin'],
      ['/public/%2e%2e/admin', '/admin'],
      ['/public/%2E%2E/admin', '/admin'],
      ['/public/.%2e/admin', '/admin'],
      ['/a/./b', '/a/b'],
      ['/a/%2e/b', '/a/b'],
      ['/..', '/'],
      ['/../../etc/passwd', '/etc/passwd'],
      ['/a/b/../../..', '/'],
      ['/a/b/../../../c', '/c'],
      ['/a/b/..', '/a/'],
      ['/a/b/.', '/a/b/'],
      ['/.', '/'],
      ['/a/./', '/a/'],
      ['/a//../b', '/a/b'],
      ['/a/b/../c?q=../x', '/a/c'],
    ];
    for (const [input, expected] of cases) assert.equal(path(input), expected, input);
  });

  it('keeps empty segments', () => {
    assert.equal(path('//a//b/'), '//a//b/');
    assert.equal(path('/a//./b'), '/a//b');
  });

  it('decodes percent-encoded unreserved characters only', () => {
    assert.equal(path('/%61dmin/%7Euser/%2D%5F'), '/admin/~user/-_');
    assert.equal(path('/a%20b/%3F/%25'), '/a%20b/%3F/%25');
    assert.equal(path('/x%2e%2e'), '/x..', 'not a dot segment once decoded');
  });

  it('rejects unsafe or malformed targets', () => {
    const bad = [
      '/a%00b', '/a\\..\\b', '/a%5c..%5cb', '/a%5C', '/a\u0000', '/a\nb', '/a\tb', '/a b', '/a\u007f',
      '/a%', '/a%4', '/a%zz', '/a#frag', '/a?x=\n', 'a/b', '*', 'example.com:443', '', 'ftp://h/x',
    ];
    for (const target of bad) assert.equal(normalizePath(target), null, JSON.stringify(target));
  });

  it('accepts absolute-form and returns its path part', () => {
    assert.deepEqual(normalizePath('http://example.com/a/../b?x=1'), { path: '/b', query: 'x=1' });
    assert.deepEqual(normalizePath('HTTPS://example.com:8443/p'), { path: '/p', query: '' });
    assert.deepEqual(normalizePath('http://example.com'), { path: '/', query: '' });
    assert.deepEqual(normalizePath('http://example.com?q'), { path: '/', query: 'q' });
    assert.equal(normalizePath('http://example.com#x'), null);
  });
});

describe('removeDotSegments', () => {
  it('follows RFC 3986 5.2.4 examples for absolute paths', () => {
    assert.equal(removeDotSegments('/a/b/c/./../../g'), '/a/g');
    assert.equal(removeDotSegments('/mid/content=5/../6'), '/mid/6');
  });
});
