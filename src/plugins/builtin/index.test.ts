import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePluginChain } from '../chain.ts';
import { createPluginRegistry } from '../registry.ts';
import { fakeEnv } from '../test-helpers.ts';
import { isTypeBoxSchema } from '../validate.ts';
import { builtinPlugins } from './index.ts';

describe('builtinPlugins', () => {
  it('are valid, uniquely named definitions with TypeBox schemas and descriptions', () => {
    const registry = createPluginRegistry(builtinPlugins);
    assert.equal(registry.size, builtinPlugins.length);
    for (const plugin of builtinPlugins) {
      assert.ok(isTypeBoxSchema(plugin.schema), plugin.name);
      assert.ok(Number.isInteger(plugin.priority), plugin.name);
      assert.ok((plugin.description ?? '').length > 0, plugin.name);
    }
  });

  it('all create with defaults and order as documented', async () => {
    const chain = await compilePluginChain(builtinPlugins.map((definition) => ({ definition, config: {} })), fakeEnv());
    assert.deepEqual(chain.names, ['request-id', 'cors', 'response-headers', 'fault-injection', 'request-headers']);
  });
});
