import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { compileValidator, queryObject } from './body.ts';
import { jsonOf, startAdmin, type TestAdmin } from './test-helpers.ts';
import { defineAdminRoute } from './types.ts';

const RouteBody = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    match: Type.Object({ paths: Type.Array(Type.String({ pattern: '^/' }), { minItems: 1 }) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

const routes = [
  defineAdminRoute({ method: 'PUT', path: '/admin/routes/:name', role: 'admin', summary: 'put', body: RouteBody, handler: (ctx) => ({ body: { got: ctx.body.match.paths } }) }),
  defineAdminRoute({ method: 'POST', path: '/admin/echo', role: 'admin', summary: 'echo', handler: (ctx) => ({ body: { body: ctx.body ?? null } }) }),
  defineAdminRoute({
    method: 'GET', path: '/admin/audit', role: 'viewer', summary: 'query',
    query: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]+$' })) }, { additionalProperties: false }),
    handler: (ctx) => ({ body: { limit: ctx.query.get('limit') } }),
  }),
];

function put(base: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> {
  return fetch(`${base}/admin/routes/r1`, { method: 'PUT', headers, body });
}

/** Raw request (chunked when `chunked`), for bodies fetch would frame differently. */
function raw(base: string, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('body handling and validation', () => {
  let t: TestAdmin;
  before(async () => {
    t = await startAdmin(routes, {}, { bodyLimitBytes: 256 });
  });
  after(() => t.close());

  it('passes a valid body to the handler', async () => {
    const response = await put(t.base, JSON.stringify({ name: 'r1', match: { paths: ['/a'] } }));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { got: ['/a'] });
  });

  it('400 with every error and its JSON Pointer path', async () => {
    const response = await put(t.base, JSON.stringify({ name: '', match: { paths: ['nope', '/ok', 3], extra: 1 } }));
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    const problem = await jsonOf(response);
    assert.equal(problem.code, 'SLUICE_ERR_ADMIN_VALIDATION');
    const paths = (problem.errors as Array<{ path: string; message: string }>).map((e) => e.path).sort();
    assert.deepEqual(paths, ['/match/extra', '/match/paths/0', '/match/paths/2', '/name']);
    for (const error of problem.errors as Array<{ message: string }>) assert.equal(typeof error.message, 'string');
  });

  it('400 when a required body is missing', async () => {
    const response = await fetch(`${t.base}/admin/routes/r1`, { method: 'PUT' });
    assert.equal(response.status, 400);
    assert.deepEqual((await jsonOf(response)).errors, [{ path: '', message: 'Expected a JSON body' }]);
  });

  it('400 for invalid JSON', async () => {
    const response = await put(t.base, '{"name": ');
    assert.equal(response.status, 400);
    assert.equal((await jsonOf(response)).detail, 'body is not valid JSON');
  });

  it('415 for a non-JSON content type', async () => {
    const response = await put(t.base, 'name=x', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(response.status, 415);
    assert.equal((await jsonOf(response)).code, 'SLUICE_ERR_ADMIN_VALIDATION');
  });

  it('accepts application/*+json with parameters', async () => {
    const response = await put(t.base, JSON.stringify({ name: 'r1', match: { paths: ['/b'] } }), { 'content-type': 'application/merge-patch+json; charset=utf-8' });
    assert.equal(response.status, 200);
  });

  it('413 when Content-Length exceeds the limit', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(300), match: { paths: ['/'] } });
    const response = await raw(t.base, '/admin/echo', big, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) });
    assert.equal(response.status, 413);
    assert.equal(JSON.parse(response.text).code, 'SLUICE_ERR_ADMIN_PAYLOAD_TOO_LARGE');
  });

  it('413 when a chunked body grows past the limit', async () => {
    const big = JSON.stringify({ pad: 'y'.repeat(400) });
    const response = await raw(t.base, '/admin/echo', big, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    assert.equal(response.status, 413);
  });

  it('POST without a body and without a body schema reaches the handler', async () => {
    const response = await fetch(`${t.base}/admin/echo`, { method: 'POST' });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { body: null });
  });

  it('validates the query and reports its errors with in: query', async () => {
    const bad = await fetch(`${t.base}/admin/audit?limit=ten`);
    assert.equal(bad.status, 400);
    assert.deepEqual((await jsonOf(bad)).errors, [{ path: '/limit', message: 'Expected string to match \'^[0-9]+$\'', in: 'query' }]);
    const good = await fetch(`${t.base}/admin/audit?limit=10`);
    assert.deepEqual(await good.json(), { limit: '10' });
  });

  it('audits validation failures as failure', () => {
    const failures = t.audit.filter((entry) => entry.method === 'PUT' && entry.status === 400);
    assert.ok(failures.length >= 2);
    assert.ok(failures.every((entry) => entry.outcome === 'failure'));
  });
});

describe('validator helpers', () => {
  it('keeps one error per path and treats __proto__ in the query as data', () => {
    const validate = compileValidator(Type.Object({ a: Type.String() }));
    assert.deepEqual(validate({}), [{ path: '/a', message: 'Expected required property' }]);
    const query = queryObject(new URLSearchParams('__proto__=x&a=1&a=2'));
    assert.equal(query.a, '2');
    assert.equal(Object.getPrototypeOf(query), null);
  });
});
