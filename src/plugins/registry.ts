import { GatewayError } from '../errors/index.ts';
import type { PluginDefinition } from './types.ts';

export { builtinPlugins } from './builtin/index.ts';

/** kebab-case: lower-case words of letters and digits joined by single dashes, starting with a letter. */
export const PLUGIN_NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

export function isPluginName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 64 && PLUGIN_NAME_PATTERN.test(value);
}

// Where a definition came from, so errors can name the module path rather than just the plugin.
const origins = new WeakMap<PluginDefinition, string>();

export function setPluginOrigin(definition: PluginDefinition, origin: string): void {
  origins.set(definition, origin);
}

/** e.g. `plugins.paths[0] (./x.mjs)`, or `built-in` for definitions with no recorded origin. */
export function pluginOrigin(definition: PluginDefinition): string {
  return origins.get(definition) ?? 'built-in';
}

/**
 * Index plugin definitions by name. Names must be kebab-case and unique: a third-party plugin can
 * not silently replace a built-in one (or another third-party one).
 */
export function createPluginRegistry(definitions: readonly PluginDefinition[]): ReadonlyMap<string, PluginDefinition> {
  const registry = new Map<string, PluginDefinition>();
  for (const definition of definitions) {
    const name: unknown = definition.name;
    if (!isPluginName(name)) {
      throw new GatewayError('SLUICE_ERR_PLUGIN_LOAD', {
        detail: `${pluginOrigin(definition)}: plugin name ${JSON.stringify(name)} is not kebab-case (e.g. "rate-limit")`,
      });
    }
    const existing = registry.get(name);
    if (existing !== undefined) {
      throw new GatewayError('SLUICE_ERR_PLUGIN_LOAD', {
        detail: `${pluginOrigin(definition)}: plugin "${name}" is already defined by ${pluginOrigin(existing)}`,
      });
    }
    registry.set(name, definition);
  }
  return registry;
}

export interface PluginEntry {
  definition: PluginDefinition;
  config: unknown;
  /** Config path for error messages, e.g. `routes[1].plugins.request-id`. */
  path?: string;
}

/**
 * Turn a merged `{ name: config }` map into chain entries. `path` is the map's config path
 * (`routes[1].plugins`); an unknown name is a config error naming that path.
 */
export function resolvePluginEntries(
  registry: ReadonlyMap<string, PluginDefinition>,
  configs: Record<string, unknown>,
  path: string,
): PluginEntry[] {
  const entries: PluginEntry[] = [];
  for (const [name, config] of Object.entries(configs)) {
    const definition = registry.get(name);
    if (definition === undefined) {
      const known = [...registry.keys()].sort().join(', ');
      throw new GatewayError('SLUICE_ERR_CONFIG_INVALID', {
        detail: `${path}.${name}: unknown plugin "${name}" (known: ${known})`,
      });
    }
    entries.push({ definition, config, path: `${path}.${name}` });
  }
  return entries;
}
