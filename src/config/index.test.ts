import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import type { PluginDefinition } from '../plugins/types.ts';
import { ConfigError, formatIssues, loadAndValidate, redactSecrets, pluginSchemasOf } from './index.ts';
import { ConfigSchema, duration, secret } from './schema/index.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/config');
// UPDATE_GOLDEN=1 rewrites the expected files; review the diff before committing.
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const plugin = (name: string, schema: PluginDefinition['schema']): PluginDefinition => ({ name, priority: 0, schema, create: () => ({}) });

const plugins = new Map<string, PluginDefinition>([
  ['cors', plugin('cors', Type.Object(
    {
      origins: Type.Array(Type.String(), { default: ['*'] }),
      credentials: Type.Optional(Type.Boolean()),
      maxAge: Type.Optional(duration()),
    },
    { additionalProperties: false },
  ))],
  ['rate-limit', plugin('rate-limit', Type.Object(
    {
      limit: Type.Integer({ minimum: 1 }),
      window: duration({ default: '1m' }),
      keyBy: Type.Optional(Type.Object({ source: Type.Union([Type.Literal('ip'), Type.Literal('header'), Type.Literal('consumer')]) })),
    },
    { additionalProperties: false },
  ))],
  ['key-auth', plugin('key-auth', Type.Object({ key: secret() }, { additionalProperties: false }))],
]);

const env = { PUBLIC_PORT: '8080' };

function golden(file: string, actual: string): void {
  const path = join(FIXTURES, file);
  if (UPDATE) writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, 'utf8'), `${file} (UPDATE_GOLDEN=1 to regenerate)`);
}

describe('golden configs (test/fixtures/config)', () => {
  for (const file of readdirSync(FIXTURES).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const stem = file.replace(/\.ya?ml$/, '');
    it(file, async () => {
      const result = await loadAndValidate(join(FIXTURES, file), { plugins, env });
      if (stem.startsWith('invalid-')) {
        assert.equal(result.ok, false);
        golden(`${stem}.errors.txt`, `${formatIssues(result.errors).replaceAll(`${FIXTURES}/`, '')}\n`);
      } else {
        assert.deepEqual(result.errors, []);
        golden(`${stem}.config.json`, `${JSON.stringify(result.config, null, 2)}\n`);
      }
    });
  }
});

describe('loadAndValidate', () => {
  it('reports every mistake of a many-mistakes config', async () => {
    const result = await loadAndValidate(join(FIXTURES, 'invalid-many.yaml'), { plugins, env });
    const messages = formatIssues(result.errors);
    for (const expected of [
      '/listeners/0/timeout: unknown property "timeout" (did you mean "timeouts"?)',
      '/upstreams/0/timeouts/connect: expected a duration such as 500, "250ms", "30s"',
      '/upstreams/1/name: duplicate upstream name "users" (first at /upstreams/0)',
      '/routes/0/upstream: unknown upstream "userz" (did you mean "users"?)',
      '/routes/0/plugins/rate-limt: unknown plugin "rate-limt" (did you mean "rate-limit"?)',
      '/routes/0/plugins/cors/origins: expected a list',
      '/routes/1/name: duplicate route name "users" (first at /routes/0)',
      '/observability/logLevel: expected one of "fatal"',
    ]) {
      assert.ok(messages.includes(expected), `missing: ${expected}\n---\n${messages}`);
    }
  });

  it('takes text, applies SLUICE_* overrides and resolves secrets relative to baseDir', async () => {
    const text = JSON.stringify({
      listeners: [{ name: 'public', port: 1 }],
      consumers: [{ name: 'alice', plugins: { 'key-auth': { key: { file: 'secrets/alice.key' } } } }],
    });
    const result = await loadAndValidate({ text, format: 'json', baseDir: FIXTURES }, { plugins, env: { SLUICE_LISTEN_PORT: '7000', SLUICE_LOG_LEVEL: 'debug' } });
    assert.ok(result.ok, formatIssues(result.errors));
    assert.equal(result.config.listeners[0]!.port, 7000);
    assert.equal(result.config.observability?.logLevel, 'debug');
    assert.deepEqual(result.config.consumers?.[0]?.plugins?.['key-auth'], { key: 'alice-key-123' });
    assert.deepEqual(result.files, [join(FIXTURES, 'secrets/alice.key')]);
    const redacted = redactSecrets(result.config, ConfigSchema, pluginSchemasOf(plugins));
    assert.deepEqual(redacted.consumers?.[0]?.plugins?.['key-auth'], { key: '[redacted]' });
  });

  it('returns load, override and secret-file problems as errors instead of throwing', async () => {
    const bad = await loadAndValidate({ text: 'listeners: [', format: 'yaml', sourceName: 'x.yaml' }, { plugins });
    assert.equal(bad.ok, false);
    assert.match(formatIssues(bad.errors), /^x\.yaml:1:\d+: YAML syntax error/);
    const override = await loadAndValidate({ text: 'listeners: [{ name: a, port: 1 }]', format: 'yaml' }, { plugins, env: { SLUICE_ADMIN_PORT: 'x' } });
    assert.deepEqual(override.errors, [{ path: '/admin/port', message: 'SLUICE_ADMIN_PORT: expected a port number 0-65535, got "x"' }]);
    const text = 'listeners: [{ name: a, port: 1 }]\nconsumers: [{ name: c, plugins: { key-auth: { key: { file: nope.key } } } }]';
    const secretFile = await loadAndValidate({ text, format: 'yaml', baseDir: FIXTURES }, { plugins });
    assert.equal(secretFile.errors[0]?.path, '/consumers/0/plugins/key-auth/key');
    assert.match(secretFile.errors[0]!.message, /cannot read secret file ".*nope\.key" \(ENOENT\)/);
  });

  it('passes router checks through with paths under the route', async () => {
    const text = 'listeners: [{ name: a, port: 1 }]\nupstreams: [{ name: u, targets: [{ url: "http://x" }] }]\nroutes: [{ name: r, match: { paths: ["/a/:"] }, upstream: u }]';
    const result = await loadAndValidate({ text, format: 'yaml' }, {
      plugins,
      routeChecks: (route) => route.match.paths.flatMap((p, i) => (p.endsWith(':') ? [{ path: `/match/paths/${i}`, message: 'empty parameter name' }] : [])),
    });
    assert.deepEqual(result.errors, [{ path: '/routes/0/match/paths/0', message: 'empty parameter name' }]);
  });

  it('ConfigError carries the issues and formats them as its detail', () => {
    const error = new ConfigError([{ path: '/a', message: 'bad' }, { path: '', message: 'whole document' }]);
    assert.equal(error.code, 'SLUICE_ERR_CONFIG_INVALID');
    assert.equal(error.detail, '/a: bad\nwhole document');
    assert.equal(error.issues.length, 2);
  });
});
