import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTemplate, sanitizeHeaderValue, TemplateError } from './template.ts';
import { fakeContext } from './test-helpers.ts';

describe('compileTemplate', () => {
  const ctx = fakeContext({
    id: 'req-1',
    method: 'POST',
    query: 'a=1&b=x%20y&flag&c=',
    headers: { 'user-agent': 'curl/8', 'x-multi': ['a', 'b'] },
    target: { upstream: 'users-svc', url: 'http://10.0.0.1:8080' },
  });

  it('renders literals as is and marks them static', () => {
    const t = compileTemplate('plain value');
    assert.equal(t.isStatic, true);
    assert.deepEqual(t.variables, []);
    assert.equal(t.render(ctx), 'plain value');
    assert.equal(compileTemplate('').render(ctx), '');
  });

  it('renders every simple variable', () => {
    const t = compileTemplate(
      '${client_ip}:${client_port} ${request_id} ${method} ${scheme}://${host}${path}?${query} ${route} ${upstream} ${target}',
    );
    assert.equal(t.isStatic, false);
    assert.equal(t.needsTarget, true);
    assert.equal(
      t.render(ctx),
      '192.0.2.10:51234 req-1 POST http://api.example.com/users/42?a=1&b=x%20y&flag&c= users users-svc http://10.0.0.1:8080',
    );
  });

  it('renders empty strings when route or target are unknown', () => {
    const t = compileTemplate('[${route}|${upstream}|${target}]');
    assert.equal(t.render(fakeContext({ route: undefined })), '[||]');
  });

  it('reads request headers case-insensitively and joins repeated ones', () => {
    assert.equal(compileTemplate('${header.User-Agent}').render(ctx), 'curl/8');
    assert.equal(compileTemplate('${header.x-multi}').render(ctx), 'a, b');
    assert.equal(compileTemplate('<${header.x-missing}>').render(ctx), '<>');
  });

  it('reads raw query parameters', () => {
    assert.equal(compileTemplate('${query.a}').render(ctx), '1');
    assert.equal(compileTemplate('${query.b}').render(ctx), 'x%20y');
    assert.equal(compileTemplate('[${query.flag}][${query.c}][${query.zz}]').render(ctx), '[][][]');
    assert.equal(compileTemplate('${query.a}').render(fakeContext({ query: '' })), '');
    assert.equal(compileTemplate('${query.aa}').render(fakeContext({ query: 'a=1&aa=2' })), '2');
  });

  it('resolves env variables once, at compile time', () => {
    const env = { REGION: 'eu-1' };
    const t = compileTemplate('region=${env.REGION}', { env });
    env.REGION = 'changed';
    assert.equal(t.isStatic, true);
    assert.deepEqual(t.variables, ['env.REGION']);
    assert.equal(t.render(ctx), 'region=eu-1');
  });

  it('renders time variables', () => {
    const iso = compileTemplate('${time_iso}').render(ctx);
    assert.ok(!Number.isNaN(Date.parse(iso)));
    const ms = Number(compileTemplate('${time_ms}').render(ctx));
    assert.ok(Math.abs(ms - Date.now()) < 5000);
  });

  it('treats $${ as an escaped ${ and lone $ as a literal', () => {
    assert.equal(compileTemplate('$${method} costs $5 ${method}$').render(ctx), '${method} costs $5 POST$');
    assert.equal(compileTemplate('$$${method}').render(ctx), '$${method}');
  });

  it('rejects unknown variables, bad arguments and unterminated placeholders', () => {
    assert.throws(() => compileTemplate('${nope}'), (e: unknown) => e instanceof TemplateError && /unknown template variable "\$\{nope\}"/.test(e.message));
    assert.throws(() => compileTemplate('${header.bad name}'), TemplateError);
    assert.throws(() => compileTemplate('${header.}'), TemplateError);
    assert.throws(() => compileTemplate('${query.}'), TemplateError);
    assert.throws(() => compileTemplate('${env.1BAD}', { env: {} }), TemplateError);
    assert.throws(() => compileTemplate('${method'), /unterminated/);
  });

  it('rejects unset env variables and env values that would inject headers', () => {
    assert.throws(() => compileTemplate('${env.NOPE}', { env: {} }), /NOPE .* is not set/);
    assert.throws(() => compileTemplate('${env.X}', { env: { X: 'a\r\nInjected: 1' } }), /not allowed/);
  });

  it('strips characters a header value cannot carry from request-derived values', () => {
    const evil = fakeContext({ path: '/a\r\nSet-Cookie: x', headers: { 'x-a': 'ok\u0000' } });
    assert.equal(compileTemplate('${path}').render(evil), '/aSet-Cookie: x');
    assert.equal(compileTemplate('p=${path};h=${header.x-a}').render(evil), 'p=/aSet-Cookie: x;h=ok');
    assert.equal(sanitizeHeaderValue('caf\u00e9 \u2603\t'), 'caf\u00e9 \t');
  });
});
