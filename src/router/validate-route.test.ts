import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeConfig, type RouteSpec } from './test-helpers.ts';
import type { RewriteConfig } from '../config/schema/index.ts';
import { validateRouteConfig } from './validate-route.ts';

function issues(spec: RouteSpec, rewrite?: RewriteConfig): Array<[string, string]> {
  const route = { ...routeConfig(spec), ...(rewrite ? { rewrite } : {}) };
  return validateRouteConfig(route).map((issue) => [issue.path, issue.message]);
}

function paths(spec: RouteSpec, rewrite?: RewriteConfig): string[] {
  return issues(spec, rewrite).map(([path]) => path);
}

describe('validateRouteConfig', () => {
  it('accepts a valid route', () => {
    const spec: RouteSpec = {
      name: 'ok',
      hosts: ['api.example.com', '*.example.com', '*', 'localhost', '[::1]'],
      paths: ['/users/:id', '/static/*', '/posts/:id?', '/n/:num(^\\d+)'],
      headers: [{ name: 'x-a', exact: 'b' }, { name: 'x-r', regex: 'v[0-9]+' }, { name: 'x-p', present: false }],
      query: [{ name: 'q', present: true }],
    };
    assert.deepEqual(issues(spec, { stripPrefix: '/users', regex: { pattern: '^/(\\w+)', replacement: '/$1' } }), []);
    assert.deepEqual(issues({ name: 't', paths: ['/a/:id/*', '/b/:id/*'] }, { path: '/u/:id/*' }), []);
  });

  it('reports invalid predicate regexes with their path', () => {
    const found = issues({ name: 'r', paths: ['/'], headers: [{ name: 'x', exact: 'a' }, { name: 'y', regex: '(' }], query: [{ name: 'q', regex: '[' }] });
    assert.deepEqual(found.map(([p]) => p), ['/match/headers/1/regex', '/match/query/0/regex']);
    assert.match(found[0]![1], /^invalid regular expression: /);
  });

  it('requires exactly one of exact, regex, present', () => {
    assert.deepEqual(paths({ name: 'r', headers: [{ name: 'x' }, { name: 'y', exact: 'a', present: true }] }), ['/match/headers/0', '/match/headers/1']);
  });

  it('reports paths find-my-way rejects, repeated and unnamed params, and percent signs', () => {
    const found = issues({ name: 'r', paths: ['/ok', '/a/*/b', '/a/:id/:id', '/a/:/b', '/a%20b', '/x/:n(^(a+)+$)', '/p/:__proto__'] });
    assert.deepEqual(found.map(([p]) => p), ['/match/paths/1', '/match/paths/2', '/match/paths/3', '/match/paths/4', '/match/paths/5', '/match/paths/6']);
    assert.match(found[0]![1], /^invalid path: .*[Ww]ildcard/);
    assert.match(found[1]![1], /":id" appears more than once/);
    assert.match(found[4]![1], /not safe/);
  });

  it('reports invalid hosts', () => {
    assert.deepEqual(paths({ name: 'r', hosts: ['good.test', 'bad host', 'a.test:8080', 'a.*.test', '-x.test'] }), [
      '/match/hosts/1', '/match/hosts/2', '/match/hosts/3', '/match/hosts/4',
    ]);
  });

  it('reports an invalid rewrite regex', () => {
    assert.deepEqual(paths({ name: 'r' }, { regex: { pattern: '(?<', replacement: '' } }), ['/rewrite/regex/pattern']);
  });

  it('reports template params some path does not define', () => {
    const found = issues({ name: 'r', paths: ['/a/:id/*', '/b/:id', '/c'] }, { path: '/x/:id/*' });
    assert.deepEqual(found, [
      ['/rewrite/path', 'uses ":id", which path "/c" does not define'],
      ['/rewrite/path', 'uses the wildcard "*", which path "/b/:id", "/c" does not define'],
    ]);
    assert.deepEqual(issues({ name: 'r', paths: ['/p/:id?'] }, { path: '/q/:id' }), []);
  });
});
