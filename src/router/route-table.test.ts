import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MODES, outcome, params, request, table } from './test-helpers.ts';

for (const mode of MODES) {
  describe(`route table (compile: ${String(mode.compile)})`, () => {
    it('prefers exact hosts, then wildcard hosts, then host-less routes', () => {
      const t = table([
        { name: 'any', paths: ['/x'] },
        { name: 'wild', hosts: ['*.example.com'], paths: ['/x'] },
        { name: 'deep', hosts: ['*.b.example.com'], paths: ['/x'] },
        { name: 'exact', hosts: ['API.example.com'], paths: ['/x'] },
      ], mode);
      assert.equal(outcome(t.match(request('/x', { host: 'api.example.com' }))), 'exact');
      assert.equal(outcome(t.match(request('/x', { host: 'api.example.com.' }))), 'exact');
      assert.equal(outcome(t.match(request('/x', { host: 'web.example.com' }))), 'wild');
      assert.equal(outcome(t.match(request('/x', { host: 'a.b.example.com' }))), 'deep');
      assert.equal(outcome(t.match(request('/x', { host: 'z.y.example.com' }))), 'wild');
      assert.equal(outcome(t.match(request('/x', { host: 'example.com' }))), 'any');
      assert.equal(outcome(t.match(request('/x', { host: '' }))), 'any');
      const star = table([{ name: 'star', hosts: ['*'], paths: ['/x'] }, { name: 'none', hosts: [], paths: ['/y'] }], mode);
      assert.equal(outcome(star.match(request('/x', { host: 'whatever.test' }))), 'star');
      assert.equal(outcome(star.match(request('/y', { host: 'whatever.test' }))), 'none');
    });

    it('falls through to the next bucket when the host bucket has no full match', () => {
      const t = table([
        { name: 'host-users', hosts: ['a.test'], paths: ['/users'] },
        { name: 'host-post', hosts: ['a.test'], paths: ['/items'], methods: ['POST'] },
        { name: 'wild-beta', hosts: ['*.test'], paths: ['/items'], headers: [{ name: 'x-beta', present: true }] },
        { name: 'any-items', paths: ['/items'] },
      ], mode);
      assert.equal(outcome(t.match(request('/users', { host: 'a.test' }))), 'host-users');
      assert.equal(outcome(t.match(request('/items', { host: 'a.test' }))), 'any-items');
      assert.equal(outcome(t.match(request('/items', { host: 'a.test', method: 'POST' }))), 'host-post');
      assert.equal(outcome(t.match(request('/items', { host: 'a.test', headers: { 'x-beta': '1' } }))), 'wild-beta');
      assert.equal(outcome(t.match(request('/users', { host: 'b.test' }))), '404');
    });

    it('matches params, static before param before wildcard, and decodes values', () => {
      const t = table([
        { name: 'param', paths: ['/users/:id'] },
        { name: 'static', paths: ['/users/me'] },
        { name: 'nested', paths: ['/users/:id/posts/:post'] },
        { name: 'wild', paths: ['/users/*'] },
        { name: 'file', paths: ['/files/:name.:ext'] },
      ], mode);
      assert.equal(outcome(t.match(request('/users/me'))), 'static');
      assert.deepEqual(params(t.match(request('/users/42'))), { id: '42' });
      assert.deepEqual(params(t.match(request('/users/a%20b%2Fc'))), { id: 'a b/c' });
      assert.deepEqual(params(t.match(request('/users/7/posts/9'))), { id: '7', post: '9' });
      assert.deepEqual(params(t.match(request('/users/7/other'))), { '*': '7/other' });
      assert.deepEqual(params(t.match(request('/files/report.pdf'))), { name: 'report', ext: 'pdf' });
      assert.equal(outcome(t.match(request('/Users/me'))), '404');
      assert.equal(outcome(t.match(request('/users'))), 'wild');
    });

    it('gives a wildcard route prefix semantics, below a literal route for the prefix', () => {
      const t = table([{ name: 'static', paths: ['/static/*'] }, { name: 'root', paths: ['/*'] }], mode);
      for (const path of ['/static', '/static/', '/static/a/b.css']) assert.equal(outcome(t.match(request(path))), 'static', path);
      assert.deepEqual(params(t.match(request('/static'))), { '*': '' });
      assert.deepEqual(params(t.match(request('/static/a/b.css'))), { '*': 'a/b.css' });
      assert.equal(outcome(t.match(request('/staticx'))), 'root');
      assert.deepEqual(params(t.match(request('/'))), { '*': '' });
      const literal = table([{ name: 'wild', paths: ['/s/*'], priority: 10 }, { name: 'exact', paths: ['/s'] }], mode);
      assert.equal(outcome(literal.match(request('/s'))), 'exact');
      assert.equal(outcome(literal.match(request('/s/x'))), 'wild');
    });

    it('supports optional params and renames params of routes sharing a node', () => {
      const t = table([
        { name: 'a', paths: ['/posts/:id?'], methods: ['GET'] },
        { name: 'b', paths: ['/posts/:postId'], methods: ['DELETE'] },
      ], mode);
      assert.equal(outcome(t.match(request('/posts'))), 'a');
      assert.deepEqual(params(t.match(request('/posts/5'))), { id: '5' });
      assert.deepEqual(params(t.match(request('/posts/5', { method: 'DELETE' }))), { postId: '5' });
    });

    it('orders candidates by priority, then predicate count, then declaration', () => {
      const t = table([
        { name: 'first', paths: ['/p'] },
        { name: 'second', paths: ['/p'] },
        { name: 'pred', paths: ['/p'], headers: [{ name: 'x-a', present: true }] },
        { name: 'two-preds', paths: ['/p'], headers: [{ name: 'x-a', present: true }], query: [{ name: 'q', present: true }] },
        { name: 'high', paths: ['/p'], priority: 5, headers: [{ name: 'x-high', exact: 'yes' }] },
      ], mode);
      assert.equal(outcome(t.match(request('/p'))), 'first');
      assert.equal(outcome(t.match(request('/p', { headers: { 'x-a': '' } }))), 'pred');
      assert.equal(outcome(t.match(request('/p', { headers: { 'x-a': '' }, query: 'q' }))), 'two-preds');
      assert.equal(outcome(t.match(request('/p', { headers: { 'x-a': '', 'x-high': 'yes' }, query: 'q' }))), 'high');
    });

    it('backtracks to a less specific path when the specific one does not accept the request', () => {
      const t = table([
        { name: 'me-post', paths: ['/users/me'], methods: ['POST'] },
        { name: 'me-beta', paths: ['/users/me'], headers: [{ name: 'x-beta', exact: '1' }] },
        { name: 'by-id', paths: ['/users/:id'], methods: ['GET'] },
      ], mode);
      assert.equal(outcome(t.match(request('/users/me'))), 'by-id');
      assert.equal(outcome(t.match(request('/users/me', { headers: { 'x-beta': '1' } }))), 'me-beta');
      assert.equal(outcome(t.match(request('/users/me', { method: 'POST' }))), 'me-post');
    });

    it('evaluates header and query predicates', () => {
      const t = table([
        { name: 'exact', paths: ['/h'], headers: [{ name: 'X-Env', exact: 'prod' }] },
        { name: 'regex', paths: ['/h'], headers: [{ name: 'x-env', regex: 'st(a|b)ge' }] },
        { name: 'absent', paths: ['/h'], headers: [{ name: 'x-env', present: false }] },
        { name: 'q-regex', paths: ['/q'], query: [{ name: 'v', regex: '\\d+' }] },
        { name: 'q-exact', paths: ['/q'], query: [{ name: 'a b', exact: 'x&y' }] },
        { name: 'q-absent', paths: ['/q'], query: [{ name: 'debug', present: false }] },
      ], mode);
      const h = (headers: Record<string, string | string[]>) => outcome(t.match(request('/h', { headers })));
      assert.equal(h({ 'x-env': 'prod' }), 'exact');
      assert.equal(h({ 'x-env': 'stage' }), 'regex');
      assert.equal(h({ 'x-env': 'xstage' }), '404', 'regex is anchored');
      assert.equal(h({}), 'absent');
      assert.equal(h({ 'x-env': ['dev', 'prod'] }), 'exact', 'any array value');
      assert.equal(h({ 'x-env': 'dev, stage' }), 'regex', 'any comma-joined value');
      const q = (query: string) => outcome(t.match(request('/q', { query })));
      assert.equal(q('v=12'), 'q-regex');
      assert.equal(q('v=x&v=3'), 'q-regex', 'any repeated value');
      assert.equal(q('v=1x'), 'q-absent');
      assert.equal(q('a+b=x%26y'), 'q-exact', 'form-decoded names and values');
      assert.equal(q('debug'), '404');
      assert.equal(q('debug=1&v=x'), '404');
    });

    it('answers 405 with Allow, serves HEAD from GET, and 404 otherwise', () => {
      const t = table([
        { name: 'get', paths: ['/r'], methods: ['GET'] },
        { name: 'post', paths: ['/r'], methods: ['POST', 'PUT'] },
        { name: 'id', paths: ['/r/:id'], methods: ['DELETE'] },
        { name: 'gated', paths: ['/r/:id'], methods: ['PATCH'], headers: [{ name: 'x-ok', present: true }] },
        { name: 'any', paths: ['/open'] },
      ], mode);
      assert.equal(outcome(t.match(request('/r', { method: 'HEAD' }))), 'get');
      assert.equal(outcome(t.match(request('/r', { method: 'DELETE' }))), '405 GET,HEAD,POST,PUT');
      assert.equal(outcome(t.match(request('/r', { method: 'BREW' }))), '405 GET,HEAD,POST,PUT');
      assert.equal(outcome(t.match(request('/r/1'))), '405 DELETE');
      assert.equal(outcome(t.match(request('/r/1', { headers: { 'x-ok': '1' } }))), '405 DELETE,PATCH');
      assert.equal(outcome(t.match(request('/open', { method: 'BREW' }))), 'any');
      assert.equal(outcome(t.match(request('/nope', { method: 'DELETE' }))), '404');
    });

    it('takes Allow from the first bucket where the path exists', () => {
      const t = table([
        { name: 'host', hosts: ['a.test'], paths: ['/x'], methods: ['PUT'] },
        { name: 'any', paths: ['/x'], methods: ['POST'] },
      ], mode);
      assert.equal(outcome(t.match(request('/x', { host: 'a.test' }))), '405 PUT');
      assert.equal(outcome(t.match(request('/x', { host: 'b.test' }))), '405 POST');
      assert.equal(outcome(t.match(request('/x', { host: 'a.test', method: 'POST' }))), 'any');
    });

    it('reports its size and does not keep the request', () => {
      const t = table([{ name: 'a', paths: ['/a', '/b'], hosts: ['x.test', '*.y.test'] }, { name: 'b', paths: ['/c'] }], mode);
      assert.equal(t.size, 2);
      assert.equal(outcome(t.match(request('/b', { host: 'q.y.test' }))), 'a');
      assert.equal(outcome(t.match(request('/c', { host: 'x.test' }))), 'b');
    });
  });
}

describe('route table with 10,000 routes', () => {
  it('compiles and matches the first, middle and last routes', () => {
    const specs = Array.from({ length: 10_000 }, (_, i) => ({ name: `r${i}`, paths: [`/svc${i}/users/:id`] }));
    const t = table(specs);
    assert.equal(t.size, 10_000);
    for (const i of [0, 1, 4_999, 5_000, 9_998, 9_999]) {
      const result = t.match(request(`/svc${i}/users/u${i}`));
      assert.equal(outcome(result), `r${i}`);
      assert.deepEqual(params(result), { id: `u${i}` });
    }
    assert.equal(outcome(t.match(request('/svc10000/users/1'))), '404');
    assert.equal(outcome(t.match(request('/svc1/users'))), '404');
  });

  it('matches 10,000 host-specific routes', () => {
    const specs = Array.from({ length: 10_000 }, (_, i) => ({ name: `h${i}`, hosts: [`t${i}.example.com`], paths: ['/api/*'] }));
    const t = table([...specs, { name: 'fallback', paths: ['/*'] }]);
    assert.equal(outcome(t.match(request('/api/x', { host: 't9999.example.com' }))), 'h9999');
    assert.equal(outcome(t.match(request('/api/x', { host: 't0.example.com' }))), 'h0');
    assert.equal(outcome(t.match(request('/other', { host: 't0.example.com' }))), 'fallback');
  });
});

describe('compile errors', () => {
  it('names the route and path find-my-way rejects', () => {
    assert.throws(() => table([{ name: 'bad', paths: ['/a/*/b'] }]), /route "bad": invalid path "\/a\/\*\/b"/);
    assert.throws(() => table([{ name: 'proto', paths: ['/a/:__proto__'] }]), /"__proto__" is not allowed/);
  });
});
