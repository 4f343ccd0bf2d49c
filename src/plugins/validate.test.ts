import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { definePlugin } from './types.ts';
import { isTypeBoxSchema, pointerToPath, schemaChecker, validatePluginConfig } from './validate.ts';

const plugin = definePlugin({
  name: 'sample',
  priority: 0,
  schema: Type.Object(
    { list: Type.Optional(Type.Array(Type.String())), on: Type.Optional(Type.Boolean({ default: true })) },
    { additionalProperties: false },
  ),
  create: () => ({}),
});

describe('validatePluginConfig', () => {
  it('applies defaults to a copy; null and undefined mean {}', () => {
    const input = { list: ['a'] };
    assert.deepEqual(validatePluginConfig(plugin, input, 'p').value, { list: ['a'], on: true });
    assert.deepEqual(input, { list: ['a'] });
    assert.deepEqual(validatePluginConfig(plugin, null, 'p'), { value: { on: true }, issues: [] });
    assert.deepEqual(validatePluginConfig(plugin, undefined, 'p').issues, []);
  });

  it('reports issues with dotted paths', () => {
    const { issues } = validatePluginConfig(plugin, { list: ['a', 2], on: 'yes' }, 'routes[3].plugins.sample');
    assert.deepEqual(
      issues.map((i) => i.path),
      ['routes[3].plugins.sample.list[1]', 'routes[3].plugins.sample.on'],
    );
  });

  it('compiles each schema once', () => {
    assert.equal(schemaChecker(plugin.schema), schemaChecker(plugin.schema));
  });
});

describe('helpers', () => {
  it('pointerToPath', () => {
    assert.equal(pointerToPath(''), '');
    assert.equal(pointerToPath('/set/x-a~1b/0/c~0d'), '.set.x-a/b[0].c~d');
  });

  it('isTypeBoxSchema', () => {
    assert.equal(isTypeBoxSchema(Type.String()), true);
    assert.equal(isTypeBoxSchema({ type: 'string' }), false);
    assert.equal(isTypeBoxSchema(null), false);
  });
});
