import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import type { PluginDefinition } from '../plugins/types.ts';
import { configJsonSchema, renderJsonSchema } from './json-schema.ts';

const cors: PluginDefinition = {
  name: 'cors',
  priority: 0,
  description: 'CORS',
  schema: Type.Object({ origins: Type.Array(Type.String(), { default: ['*'] }) }),
  create: () => ({}),
};

describe('configJsonSchema', () => {
  it('is draft 2020-12 with an $id, and plain JSON (no TypeBox symbols)', () => {
    const schema = configJsonSchema();
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.$id, 'sluice.schema.json');
    assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
    assert.equal(Object.getOwnPropertySymbols(schema).length, 0);
    assert.equal(renderJsonSchema().endsWith('}\n'), true);
  });

  it('does not require keys that have defaults (they are applied before validation)', () => {
    const listener = ((configJsonSchema().properties as any).listeners.items) as { required: string[] };
    assert.deepEqual(listener.required, ['name', 'port']);
  });

  it('links known plugins from every plugin map and still allows unknown names', () => {
    const schema = configJsonSchema([cors]) as any;
    assert.deepEqual(schema.$defs['plugin-cors'].description, 'CORS');
    assert.deepEqual(schema.$defs['plugin-cors'].required, undefined);
    const maps = [schema.properties.plugins.properties.global, schema.properties.routes.items.properties.plugins, schema.properties.consumers.items.properties.plugins];
    for (const map of maps) {
      assert.deepEqual(map.properties, { cors: { $ref: '#/$defs/plugin-cors' } });
      assert.ok(Object.keys(map.patternProperties).length === 1);
    }
  });
});
