import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { GatewayError } from '../errors/index.ts';
import { builtinPlugins, createPluginRegistry, isPluginName, resolvePluginEntries, setPluginOrigin } from './registry.ts';
import { definePlugin, type PluginDefinition } from './types.ts';

const plugin = (name: string): PluginDefinition =>
  definePlugin({ name, priority: 0, schema: Type.Object({}), create: () => ({}) });

const isCode = (code: string, detail: RegExp) => (e: unknown) =>
  e instanceof GatewayError && e.code === code && detail.test(e.detail ?? '');

describe('plugin registry', () => {
  it('accepts kebab-case names only', () => {
    for (const ok of ['cors', 'rate-limit', 'jwt-auth2', 'a1-b2-c3']) assert.equal(isPluginName(ok), true, ok);
    for (const bad of ['', 'Cors', 'rate_limit', '-cors', 'cors-', 'a--b', '1abc', 'a b', 'x'.repeat(65), 42]) {
      assert.equal(isPluginName(bad), false, String(bad));
    }
  });

  it('indexes definitions by name', () => {
    const a = plugin('a-one');
    const registry = createPluginRegistry([a, plugin('b-two')]);
    assert.equal(registry.get('a-one'), a);
    assert.deepEqual([...registry.keys()], ['a-one', 'b-two']);
  });

  it('rejects bad names with SLUICE_ERR_PLUGIN_LOAD', () => {
    assert.throws(() => createPluginRegistry([plugin('BadName')]), isCode('SLUICE_ERR_PLUGIN_LOAD', /"BadName" is not kebab-case/));
  });

  it('rejects duplicates and names where each came from', () => {
    const thirdParty = plugin('request-id');
    setPluginOrigin(thirdParty, 'plugins.paths[0] (./rid.mjs)');
    assert.throws(
      () => createPluginRegistry([...builtinPlugins, thirdParty]),
      isCode('SLUICE_ERR_PLUGIN_LOAD', /^plugins\.paths\[0\] \(\.\/rid\.mjs\): plugin "request-id" is already defined by built-in$/),
    );
  });

  it('registers every built-in plugin', () => {
    const registry = createPluginRegistry(builtinPlugins);
    assert.deepEqual([...registry.keys()].sort(), ['cors', 'fault-injection', 'request-headers', 'request-id', 'response-headers']);
  });

  it('resolves config maps into entries with paths, rejecting unknown plugins', () => {
    const registry = createPluginRegistry(builtinPlugins);
    const entries = resolvePluginEntries(registry, { 'request-id': {} }, 'routes[0].plugins');
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.definition.name, 'request-id');
    assert.equal(entries[0]!.path, 'routes[0].plugins.request-id');
    assert.throws(
      () => resolvePluginEntries(registry, { nope: {} }, 'routes[0].plugins'),
      isCode('SLUICE_ERR_CONFIG_INVALID', /^routes\[0\]\.plugins\.nope: unknown plugin "nope" \(known: cors, fault-injection, request-headers, request-id, response-headers\)$/),
    );
  });
});
