import type { TSchema } from '@sinclair/typebox';
import type { PluginDefinition } from '../plugins/types.ts';
import { ConfigSchema } from './schema/index.ts';

export const JSON_SCHEMA_ID = 'sluice.schema.json';
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

// The key pattern of `pluginMap()`: the one Record in the schema whose values are plugin configs.
const PLUGIN_KEY_PATTERN = '^[a-z0-9][a-z0-9-]*$';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A property with a default need not be written: the loader applies defaults before validating.
 * TypeBox still lists non-Optional properties with defaults as required, which would make editors
 * flag e.g. a listener without `host`.
 */
function relaxDefaulted(node: unknown): void {
  if (Array.isArray(node)) node.forEach(relaxDefaulted);
  if (!isObj(node)) return;
  const props = node.properties;
  if (Array.isArray(node.required) && isObj(props)) {
    node.required = node.required.filter((k: string) => !(isObj(props[k]) && 'default' in props[k]));
    if ((node.required as string[]).length === 0) delete node.required;
  }
  for (const value of Object.values(node)) relaxDefaulted(value);
}

/** TypeBox schemas are JSON Schema plus symbol keys (Kind, Optional); a JSON round trip drops those. */
export function plainSchema(schema: TSchema): Json {
  const plain = JSON.parse(JSON.stringify(schema)) as Json;
  relaxDefaulted(plain);
  return plain;
}

/** Lets editors complete and check known plugins' configs; unknown names stay allowed (third-party). */
function linkPlugins(node: unknown, names: readonly string[]): void {
  if (Array.isArray(node)) node.forEach((n) => linkPlugins(n, names));
  if (!isObj(node)) return;
  const patterns = node.patternProperties;
  if (names.length > 0 && isObj(patterns) && PLUGIN_KEY_PATTERN in patterns) {
    node.properties = Object.fromEntries(names.map((n) => [n, { $ref: `#/$defs/plugin-${n}` }]));
  }
  for (const value of Object.values(node)) linkPlugins(value, names);
}

/**
 * The published JSON Schema (draft 2020-12) of the config file, generated from the TypeBox source;
 * with plugins, their config schemas are included under `$defs` and linked from every plugin map.
 */
export function configJsonSchema(plugins: readonly PluginDefinition[] = []): Json {
  const sorted = [...plugins].sort((a, b) => a.name.localeCompare(b.name));
  const body = plainSchema(ConfigSchema);
  linkPlugins(body, sorted.map((p) => p.name));
  const schema: Json = { $schema: JSON_SCHEMA_DIALECT, $id: JSON_SCHEMA_ID, ...body };
  if (sorted.length > 0) {
    schema.$defs = Object.fromEntries(
      sorted.map((p) => [`plugin-${p.name}`, { description: p.description, ...plainSchema(p.schema) }]),
    );
  }
  return schema;
}

/** The file's exact text: stable key order, two-space indent, trailing newline. */
export function renderJsonSchema(plugins: readonly PluginDefinition[] = []): string {
  return `${JSON.stringify(configJsonSchema(plugins), null, 2)}\n`;
}
