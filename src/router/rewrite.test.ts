import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RewriteConfig } from '../config/schema/index.ts';
import { compileRewrite, parseTemplate, rawWildcard } from './rewrite.ts';
import { params, request, table } from './test-helpers.ts';

function rewrite(config: RewriteConfig, path: string, values: Record<string, string> = {}): string {
  const rewriter = compileRewrite(config);
  assert.ok(rewriter);
  return rewriter(path, values);
}

describe('compileRewrite', () => {
  it('returns undefined when there is nothing to do', () => {
    assert.equal(compileRewrite(undefined), undefined);
    assert.equal(compileRewrite({}), undefined);
  });

  it('strips a prefix at a segment boundary only, never leaving an empty path', () => {
    assert.equal(rewrite({ stripPrefix: '/api' }, '/api/users'), '/users');
    assert.equal(rewrite({ stripPrefix: '/api' }, '/api'), '/');
    assert.equal(rewrite({ stripPrefix: '/api' }, '/api/'), '/');
    assert.equal(rewrite({ stripPrefix: '/api' }, '/apix/users'), '/apix/users');
    assert.equal(rewrite({ stripPrefix: '/api/' }, '/api/users'), '/users');
    assert.equal(rewrite({ stripPrefix: '/' }, '/users'), '/users');
    assert.equal(rewrite({ stripPrefix: '/api' }, '/other'), '/other');
  });

  it('replaces a prefix at a segment boundary', () => {
    const v1 = { replacePrefix: { from: '/v1', to: '/api/v2' } };
    assert.equal(rewrite(v1, '/v1/users'), '/api/v2/users');
    assert.equal(rewrite(v1, '/v1'), '/api/v2');
    assert.equal(rewrite(v1, '/v10/users'), '/v10/users');
    assert.equal(rewrite({ replacePrefix: { from: '/api', to: '/' } }, '/api/x'), '/x');
    assert.equal(rewrite({ replacePrefix: { from: '/api', to: '/' } }, '/api'), '/');
    assert.equal(rewrite({ replacePrefix: { from: '/', to: '/base/' } }, '/x'), '/base/x');
  });

  it('applies a regex with numbered and named captures', () => {
    assert.equal(rewrite({ regex: { pattern: '^/old/(\\d+)$', replacement: '/new/$1' } }, '/old/42'), '/new/42');
    assert.equal(rewrite({ regex: { pattern: '^/u/(?<id>[^/]+)', replacement: '/users/$<id>' } }, '/u/ab/x'), '/users/ab/x');
    assert.equal(rewrite({ regex: { pattern: '^/x/', replacement: '' } }, '/x/y'), '/y');
    assert.equal(rewrite({ regex: { pattern: '^/nomatch', replacement: '/z' } }, '/a'), '/a');
  });

  it('fills a path template with encoded params and the raw wildcard', () => {
    assert.equal(rewrite({ path: '/accounts/:id/profile' }, '/u/a b', { id: 'a b/c' }), '/accounts/a%20b%2Fc/profile');
    assert.equal(rewrite({ path: '/a/:id' }, '/x', { id: '..' }), '/a/%2E%2E');
    assert.equal(rewrite({ path: '/assets/*' }, '/static/css/site.css', { '*': 'css/site.css' }), '/assets/css/site.css');
    assert.equal(rewrite({ path: '/t::x/:missing' }, '/p'), '/t:x/');
    assert.equal(rewrite({ path: '/files/:name.:ext' }, '/f', { name: 'a', ext: 'txt' }), '/files/a.txt');
  });

  it('keeps an encoded slash in the wildcard as one segment', () => {
    const t = table([{ name: 'static', paths: ['/static/*'] }]);
    const path = '/static/..%2F..%2Fsecret/%C3%A9';
    const matched = params(t.match(request(path)));
    assert.deepEqual(matched, { '*': '../../secret/é' });
    assert.equal(rewrite({ path: '/assets/*' }, path, matched), '/assets/..%2F..%2Fsecret/%C3%A9');
  });

  it('applies stripPrefix → replacePrefix → regex → template in order', () => {
    const config = { stripPrefix: '/api', replacePrefix: { from: '/v1', to: '/v2' }, regex: { pattern: '/v2/', replacement: '/v3/' } };
    assert.equal(rewrite(config, '/api/v1/x'), '/v3/x');
    assert.equal(rewrite({ ...config, path: '/final/:id' }, '/api/v1/x', { id: '7' }), '/final/7');
  });
});

describe('rawWildcard', () => {
  it('finds the encoded tail of the matched path', () => {
    assert.equal(rawWildcard('/s/a%2Fb', 'a/b'), 'a%2Fb');
    assert.equal(rawWildcard('/s/caf%C3%A9/x', 'café/x'), 'caf%C3%A9/x');
    assert.equal(rawWildcard('/s/%F0%9F%98%80', '😀'), '%F0%9F%98%80');
    assert.equal(rawWildcard('/s/plain', 'plain'), 'plain');
    assert.equal(rawWildcard('/s/x', ''), '');
  });

  it('falls back to encoding segments when the tail does not decode to the value', () => {
    assert.equal(rawWildcard('/s/other', 'a b/c'), 'a%20b/c');
  });
});

describe('parseTemplate', () => {
  it('splits literals, params, wildcard and escaped colons', () => {
    assert.deepEqual(parseTemplate('/a/:id/b::c/*'), ['/a/', { param: 'id' }, '/b:c/', { wildcard: true }]);
  });
});
