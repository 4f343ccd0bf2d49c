import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GatewayError } from '../errors/index.ts';
import { loadPluginModules } from './loader.ts';
import { builtinPlugins, createPluginRegistry } from './registry.ts';

// Fixture modules: plain .mjs files. A TypeBox schema carries Symbol.for('TypeBox.Kind'), which a
// module can set without importing TypeBox (as a plugin with its own TypeBox copy effectively does).
const SCHEMA = "{ [Symbol.for('TypeBox.Kind')]: 'Object', type: 'object', properties: {} }";
const fixtures: Record<string, string> = {
  'good-default.mjs': `export default { name: 'hello-world', priority: 10, schema: ${SCHEMA}, create: () => ({}) };`,
  'good-named.mjs': `export const plugin = { name: 'named-one', priority: -5, schema: ${SCHEMA}, create: () => ({}) };`,
  'good-array.mjs': `const p = (name) => ({ name, priority: 1, schema: ${SCHEMA}, create: () => ({}) });
    export const plugins = [p('multi-a'), p('multi-b')];`,
  'no-create.mjs': `export default { name: 'no-create', priority: 1, schema: ${SCHEMA} };`,
  'bad-name.mjs': `export default { name: 'Bad_Name', priority: 1, schema: ${SCHEMA}, create: () => ({}) };`,
  'no-name.mjs': `export default { priority: 1, schema: ${SCHEMA}, create: () => ({}) };`,
  'float-priority.mjs': `export default { name: 'floaty', priority: 1.5, schema: ${SCHEMA}, create: () => ({}) };`,
  'plain-schema.mjs': `export default { name: 'plain', priority: 1, schema: { type: 'object' }, create: () => ({}) };`,
  'no-schema.mjs': `export default { name: 'schemaless', priority: 1, create: () => ({}) };`,
  'bad-in-array.mjs': `export const plugins = [{ name: 'ok-one', priority: 1, schema: ${SCHEMA}, create: () => ({}) }, { name: 'broken' }];`,
  'nothing.mjs': `export const other = 1;`,
  'syntax-error.mjs': `export default {`,
  'dup-builtin.mjs': `export default { name: 'request-id', priority: 1, schema: ${SCHEMA}, create: () => ({}) };`,
};

describe('loadPluginModules', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-plugins-'));
    for (const [file, source] of Object.entries(fixtures)) await writeFile(join(dir, file), source);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const failsWith = async (paths: string[], detail: string | RegExp) => {
    await assert.rejects(loadPluginModules(paths, dir), (e: unknown) => {
      assert.ok(e instanceof GatewayError);
      assert.equal(e.code, 'SLUICE_ERR_PLUGIN_LOAD');
      if (typeof detail === 'string') assert.equal(e.detail, detail);
      else assert.match(e.detail ?? '', detail);
      return true;
    });
  };

  it('loads default, named `plugin` and `plugins` array exports, relative to baseDir', async () => {
    const loaded = await loadPluginModules(['./good-default.mjs', 'good-named.mjs', join(dir, 'good-array.mjs')], dir);
    assert.deepEqual(loaded.map((p) => p.name), ['hello-world', 'named-one', 'multi-a', 'multi-b']);
    assert.equal(loaded[1]!.priority, -5);
  });

  it('returns nothing for no paths', async () => {
    assert.deepEqual(await loadPluginModules([], dir), []);
  });

  it('names the path and the problem', async () => {
    await failsWith(['./good-default.mjs', './no-create.mjs'], 'plugins.paths[1] (./no-create.mjs): default export has no create() function (plugin "no-create")');
    await failsWith(['./bad-name.mjs'], 'plugins.paths[0] (./bad-name.mjs): default export name "Bad_Name" is not kebab-case (e.g. "rate-limit")');
    await failsWith(['./no-name.mjs'], 'plugins.paths[0] (./no-name.mjs): default export has no name (a kebab-case string)');
    await failsWith(['./float-priority.mjs'], /default export has no integer priority \(plugin "floaty"\)$/);
    await failsWith(['./plain-schema.mjs'], /schema is a plain object, not a TypeBox schema/);
    await failsWith(['./no-schema.mjs'], /has no schema object/);
    await failsWith(['./bad-in-array.mjs'], /^plugins\.paths\[0\] \(\.\/bad-in-array\.mjs\): plugins export \[1\] has no integer priority/);
    await failsWith(['./nothing.mjs'], 'plugins.paths[0] (./nothing.mjs): module has no default export, "plugin" or "plugins" export');
  });

  it('reports modules that cannot be imported', async () => {
    await failsWith(['./missing.mjs'], /^plugins\.paths\[0\] \(\.\/missing\.mjs\): cannot import .*missing\.mjs: /);
    await failsWith(['./syntax-error.mjs'], /^plugins\.paths\[0\] \(\.\/syntax-error\.mjs\): cannot import /);
  });

  it('records the origin so registry conflicts name the module', async () => {
    const loaded = await loadPluginModules(['./dup-builtin.mjs'], dir);
    assert.throws(
      () => createPluginRegistry([...builtinPlugins, ...loaded]),
      (e: unknown) =>
        e instanceof GatewayError &&
        e.detail === 'plugins.paths[0] (./dup-builtin.mjs): plugin "request-id" is already defined by built-in',
    );
  });
});
