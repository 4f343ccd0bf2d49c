import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { ConfigError } from './issues.ts';
import { secret } from './schema/index.ts';
import { ConfigSchema } from './schema/index.ts';
import { findSecrets, pluginMapsOf, redactSecrets, resolveSecrets } from './secrets.ts';

const Schema = Type.Object({
  token: Type.Optional(secret()),
  list: Type.Optional(Type.Array(Type.Object({ password: secret(), user: Type.String() }))),
  byName: Type.Optional(Type.Record(Type.String(), secret())),
  plain: Type.Optional(Type.String()),
});

const pluginSchemas = new Map([['key-auth', Type.Object({ key: secret(), header: Type.Optional(Type.String()) })]]);

describe('resolveSecrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-secrets-'));
  writeFileSync(join(dir, 'token'), 's3cret\n');
  writeFileSync(join(dir, 'pw'), 'pw\r\n\n');

  it('replaces { file } secrets with the trimmed file content, without touching the input', async () => {
    const input = { token: { file: 'token' }, list: [{ user: 'a', password: { file: join(dir, 'pw') } }, { user: 'b', password: 'literal' }], plain: 'x' };
    const { config, files } = await resolveSecrets(input, Schema, dir);
    assert.deepEqual(config, { token: 's3cret', list: [{ user: 'a', password: 'pw' }, { user: 'b', password: 'literal' }], plain: 'x' });
    assert.deepEqual(files, [join(dir, 'pw'), join(dir, 'token')]);
    assert.deepEqual(input.token, { file: 'token' });
  });

  it('walks records and plugin configs by their plugin schema', async () => {
    const config = {
      listeners: [],
      consumers: [{ name: 'c', plugins: { 'key-auth': { key: { file: 'token' }, header: 'x' }, other: { key: { file: 'nope' } } } }],
      plugins: { global: { 'key-auth': { key: { file: 'token' } } } },
    };
    const resolved = await resolveSecrets(config, ConfigSchema, dir, pluginSchemas);
    assert.deepEqual(resolved.config.consumers[0]!.plugins, { 'key-auth': { key: 's3cret', header: 'x' }, other: { key: { file: 'nope' } } });
    assert.deepEqual(resolved.config.plugins.global, { 'key-auth': { key: 's3cret' } });
    assert.deepEqual((await resolveSecrets({ byName: { a: { file: 'token' } } }, Schema, dir)).config, { byName: { a: 's3cret' } });
  });

  it('reports every unreadable file with its JSON path', async () => {
    const input = { token: { file: 'missing-1' }, list: [{ user: 'a', password: { file: 'missing-2' } }] };
    await assert.rejects(resolveSecrets(input, Schema, dir), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.issues.map((i) => i.path), ['/token', '/list/0/password']);
      assert.match(err.issues[0]!.message, /^cannot read secret file ".*missing-1" \(ENOENT\)$/);
      return true;
    });
  });
});

describe('redactSecrets', () => {
  it('replaces every secret, literal or file reference, in a copy', () => {
    const input = { token: 'abc', list: [{ user: 'a', password: { file: 'x' } }], byName: { k: 'v' }, plain: 'keep' };
    assert.deepEqual(redactSecrets(input, Schema), { token: '[redacted]', list: [{ user: 'a', password: '[redacted]' }], byName: { k: '[redacted]' }, plain: 'keep' });
    assert.equal(input.token, 'abc');
  });

  it('redacts plugin secrets in every scope when given plugin schemas', () => {
    const config = { routes: [{ plugins: { 'key-auth': { key: 'k', header: 'h' } } }], consumers: [{ plugins: { 'key-auth': { key: 'k' } } }] };
    const redacted = redactSecrets(config, ConfigSchema, pluginSchemas);
    assert.deepEqual(redacted.routes[0]!.plugins['key-auth'], { key: '[redacted]', header: 'h' });
    assert.deepEqual(redacted.consumers[0]!.plugins['key-auth'], { key: '[redacted]' });
    assert.deepEqual(findSecrets(config, ConfigSchema).length, 0); // without plugin schemas nothing is known
  });

  it('lists the plugin maps of every scope', () => {
    const config = { plugins: { global: {} }, routes: [{ plugins: {} }, {}], consumers: [{ plugins: {} }] };
    assert.deepEqual(pluginMapsOf(config).map((m) => m.path), ['/plugins/global', '/routes/0/plugins', '/consumers/0/plugins']);
  });
});
