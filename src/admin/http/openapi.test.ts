import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Script } from 'node:vm';
import { Type } from '@sinclair/typebox';
import { buildOpenApi, toOpenApiPath } from './openapi.ts';
import { bearer, jsonOf, startAdmin } from './test-helpers.ts';
import { defineAdminRoute, type AdminRoute } from './types.ts';

const Target = Type.Object({ url: Type.String({ format: 'uri' }), weight: Type.Optional(Type.Integer({ minimum: 1 })) }, { $id: 'Target' });

const routes: AdminRoute[] = [
  defineAdminRoute({
    method: 'GET', path: '/admin/upstreams/:name', role: 'viewer', summary: 'One upstream', tags: ['upstreams'],
    query: Type.Object({ verbose: Type.Optional(Type.String({ description: 'more detail' })), view: Type.String() }),
    response: Type.Object({ name: Type.String(), targets: Type.Array(Target) }),
    handler: () => ({ body: {} }),
  }),
  defineAdminRoute({ method: 'POST', path: '/admin/upstreams/:name/targets', role: 'operator', summary: 'Register a target', body: Target, handler: () => ({ status: 201 }) }),
  defineAdminRoute({ method: 'DELETE', path: '/admin/upstreams/:name/targets', role: 'operator', summary: 'Deregister', handler: () => ({ status: 204 }) }),
];

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Record<string, any>>>;
  components: Record<string, Record<string, any>>;
  security: unknown[];
};

describe('buildOpenApi', () => {
  const doc = buildOpenApi(routes, { title: 'T', version: '1' }) as unknown as Doc;

  it('is an OpenAPI 3.1 document with bearer security', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
    assert.deepEqual(doc.components.securitySchemes!.bearerAuth, { type: 'http', scheme: 'bearer', description: doc.components.securitySchemes!.bearerAuth.description });
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/admin/upstreams/{name}', '/admin/upstreams/{name}/targets']);
    assert.deepEqual(Object.keys(doc.paths['/admin/upstreams/{name}/targets']!).sort(), ['delete', 'post']);
  });

  it('describes parameters, role, request body and responses', () => {
    const get = doc.paths['/admin/upstreams/{name}']!.get!;
    assert.equal(get['x-required-role'], 'viewer');
    assert.equal(get.operationId, 'getAdminUpstreamsName');
    assert.deepEqual(get.parameters, [
      { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'verbose', in: 'query', required: false, schema: { type: 'string', description: 'more detail' }, description: 'more detail' },
      { name: 'view', in: 'query', required: true, schema: { type: 'string' } },
    ]);
    for (const status of ['400', '401', '403', '404', '409', '429']) assert.equal(get.responses[status].$ref, `#/components/responses/Problem${status}`);
    assert.equal(get.responses['200'].content['application/json'].schema.properties.targets.items.$ref, '#/components/schemas/Target');
    const post = doc.paths['/admin/upstreams/{name}/targets']!.post!;
    assert.equal(post['x-required-role'], 'operator');
    assert.deepEqual(post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/Target' });
    assert.ok(post.responses['413'] && post.responses['415']);
    assert.equal(doc.components.responses!.Problem403.content['application/problem+json'].schema.$ref, '#/components/schemas/Problem');
  });

  it('moves $id schemas to components as plain JSON Schema', () => {
    const target = doc.components.schemas!.Target;
    assert.equal(target.$id, undefined);
    assert.deepEqual(target.required, ['url']);
    assert.equal(Object.getOwnPropertySymbols(target).length, 0);
    assert.ok(doc.components.schemas!.Problem);
  });

  it('converts find-my-way path syntax', () => {
    assert.deepEqual(toOpenApiPath('/a/:id(^\\d+)/b::c/:x'), { path: '/a/{id}/b:c/{x}', params: [{ name: 'id', pattern: '^\\d+' }, { name: 'x' }] });
    assert.deepEqual(toOpenApiPath('/files/*').path, '/files/{wildcard}');
  });
});

describe('served document and docs page', () => {
  it('serves /admin/openapi.json to viewers (401 without a token) including the built-in routes', async () => {
    const t = await startAdmin(routes, { tokens: [{ name: 'v', role: 'viewer', token: 'tok' }] });
    try {
      assert.equal((await fetch(`${t.base}/admin/openapi.json`)).status, 401);
      const response = await fetch(`${t.base}/admin/openapi.json`, { headers: bearer('tok') });
      assert.equal(response.status, 200);
      const doc = (await jsonOf(response)) as unknown as Doc;
      assert.equal(doc.openapi, '3.1.0');
      assert.equal(doc.paths['/admin/openapi.json']!.get!['x-required-role'], 'viewer');
      assert.deepEqual(doc.paths['/admin/docs']!.get!.security, []);
    } finally {
      await t.close();
    }
  });

  it('serves the docs page without a token, self-contained, under a hash-based CSP', async () => {
    const t = await startAdmin(routes, { tokens: [{ name: 'v', role: 'viewer', token: 'tok' }] });
    try {
      const response = await fetch(`${t.base}/admin/docs`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
      const csp = response.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /connect-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.equal(response.headers.get('x-frame-options'), 'DENY');
      const html = await response.text();
      assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|https?:\/\//);
      assert.match(html, /fetch\('\/admin\/openapi\.json'/);
      // The CSP hashes are those of the inline script and style actually sent.
      for (const [tag, directive] of [['script', 'script-src'], ['style', 'style-src']]) {
        const body = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html)![1]!;
        const digest = createHash('sha256').update(body).digest('base64');
        assert.ok(csp.includes(`${directive} 'sha256-${digest}'`), tag);
        if (tag === 'script') assert.doesNotThrow(() => new Script(body), 'the inline script parses');
      }
      assert.equal(t.audit.length, 0);
    } finally {
      await t.close();
    }
  });
});

/** Just enough DOM to run the docs page script outside a browser. */
class FakeNode {
  children: Array<FakeNode | string> = [];
  hidden = true;
  value = '';
  textContent = '';
  listeners: Record<string, () => void> = {};
  constructor(readonly tag: string) {}
  append(...kids: Array<FakeNode | string>): void {
    this.children.push(...kids);
  }
  replaceChildren(): void {
    this.children = [];
  }
  addEventListener(type: string, listener: () => void): void {
    this.listeners[type] = listener;
  }
}

describe('docs page script', () => {
  it('renders one card per operation once a token is entered', async () => {
    const { DOCS_PAGE_HTML } = await import('./docs-page.ts');
    const script = /<script>([\s\S]*?)<\/script>/.exec(DOCS_PAGE_HTML)![1]!;
    const nodes: Record<string, FakeNode> = Object.fromEntries(['status', 'ops', 'auth', 'token', 'go'].map((id) => [id, new FakeNode(id)]));
    const doc = buildOpenApi(routes, { title: 'T', version: '9' });
    const sent: Array<Record<string, string>> = [];
    const fetchStub = async (_url: string, init: { headers: Record<string, string> }) => {
      sent.push(init.headers);
      const authorized = init.headers.authorization === 'Bearer tok';
      return { ok: authorized, status: authorized ? 200 : 401, json: async () => doc };
    };
    const document = { getElementById: (id: string) => nodes[id], createElement: (tag: string) => new FakeNode(tag) };
    new Script(script).runInNewContext({ document, fetch: fetchStub, JSON, Object, Array });
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(nodes.auth!.hidden, false, 'asks for a token after a 401');
    nodes.token!.value = ' tok ';
    nodes.go!.listeners.click!();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(JSON.parse(JSON.stringify(sent)), [{}, { authorization: 'Bearer tok' }]);
    assert.equal(nodes.status!.textContent, 'T 9');
    assert.equal(nodes.ops!.children.length, 3);
  });
});
