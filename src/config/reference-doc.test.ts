import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { builtinPlugins } from '../plugins/builtin/index.ts';
import type { PluginDefinition } from '../plugins/types.ts';
import { ENV_OVERRIDES } from './env-overrides.ts';
import { generatedArtifacts, renderReference } from './reference-doc.ts';
import { duration } from './schema/index.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('generated files', () => {
  // The schema and reference are generated from the source; this keeps the checked-in copies honest.
  for (const [file, text] of Object.entries(generatedArtifacts(builtinPlugins))) {
    it(`${file} is up to date (npm run schema)`, () => {
      assert.equal(readFileSync(join(ROOT, file), 'utf8'), text, `${file} is stale: run npm run schema`);
    });
  }
});

describe('renderReference', () => {
  const plugin: PluginDefinition = {
    name: 'rate-limit',
    priority: 1000,
    description: 'Limits requests | per window.',
    schema: Type.Object({
      limit: Type.Integer({ minimum: 1, description: 'Requests per window' }),
      window: duration({ default: '1m' }),
      key: Type.Optional(Type.Object({ source: Type.Union([Type.Literal('ip'), Type.Literal('header')]) })),
    }),
    create: () => ({}),
  };
  const doc = renderReference([plugin]);

  it('lists nested keys with type, required, default and description', () => {
    assert.match(doc, /^\| `listeners\[\]\.port` \| integer \(0–65535\) \| yes \|  \| TCP port \(0 = ephemeral\) \|$/m);
    assert.match(doc, /^\| `listeners\[\]\.host` \| string \|  \| `"0\.0\.0\.0"` \| Address to bind \|$/m);
    assert.match(doc, /^\| `upstreams\[\]\.timeouts\.connect` \| duration \|  \| `"5s"` \|/m);
    assert.match(doc, /^\| `upstreams\[\]\.hostHeader` \| "preserve" \\\| "target" \|/m);
    assert.match(doc, /^\| `routes\[\]\.match\.headers\[\]\.regex` \| string \|/m);
  });

  it('documents every SLUICE_* override', () => {
    for (const o of ENV_OVERRIDES) assert.ok(doc.includes(`| \`${o.variable}\` | \`${o.path}\` |`), o.variable);
  });

  it('has a section per plugin with its own keys, escaping pipes', () => {
    assert.match(doc, /^### `rate-limit`\n\nLimits requests \\\| per window\. Priority 1000\.$/m);
    assert.match(doc, /^\| `limit` \| integer \(1–\) \| yes \|  \| Requests per window \|$/m);
    assert.match(doc, /^\| `key\.source` \| "ip" \\\| "header" \| yes \|/m);
  });
});
