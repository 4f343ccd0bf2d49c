import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GatewayError } from '../errors/index.ts';
import { isPluginName, setPluginOrigin } from './registry.ts';
import type { PluginDefinition } from './types.ts';
import { isTypeBoxSchema, schemaChecker } from './validate.ts';

/**
 * Load third-party plugin modules listed in `plugins.paths`. Each path is a file path, resolved
 * against `baseDir` (the config file's directory) and imported as a file URL. A module exports
 * its plugin(s) as, in order of preference:
 *   - `export default definePlugin({...})` or `export default [pluginA, pluginB]`
 *   - `export const plugin = definePlugin({...})`
 *   - `export const plugins = [pluginA, pluginB]`
 * Every definition gets the same shape checks as a built-in; errors name the path.
 */
export async function loadPluginModules(paths: readonly string[], baseDir: string): Promise<PluginDefinition[]> {
  const loaded: PluginDefinition[] = [];
  for (let i = 0; i < paths.length; i++) {
    const spec = paths[i]!;
    const origin = `plugins.paths[${i}] (${spec})`;
    const module = await importModule(spec, baseDir, origin);
    const { exportName, values } = pickExport(module, origin);
    values.forEach((value, j) => {
      const where = Array.isArray(module[exportName]) ? `${exportName} export [${j}]` : `${exportName} export`;
      const definition = checkDefinition(value, `${origin}: ${where}`);
      setPluginOrigin(definition, origin);
      loaded.push(definition);
    });
  }
  return loaded;
}

function loadError(detail: string, cause?: unknown): GatewayError {
  return new GatewayError('SLUICE_ERR_PLUGIN_LOAD', { detail, cause });
}

async function importModule(spec: string, baseDir: string, origin: string): Promise<Record<string, unknown>> {
  if (spec.trim() === '') throw loadError(`${origin}: empty path`);
  const file = isAbsolute(spec) ? spec : resolve(baseDir, spec);
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw loadError(`${origin}: cannot import ${file}: ${reason}`, err);
  }
}

function pickExport(module: Record<string, unknown>, origin: string): { exportName: string; values: unknown[] } {
  for (const exportName of ['default', 'plugin', 'plugins']) {
    const value = module[exportName];
    if (value === undefined) continue;
    if (exportName === 'plugin' && Array.isArray(value)) {
      throw loadError(`${origin}: named export "plugin" must be one plugin definition (use "plugins" for an array)`);
    }
    if (exportName === 'plugins' && !Array.isArray(value)) throw loadError(`${origin}: named export "plugins" must be an array`);
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0) throw loadError(`${origin}: ${exportName} export is an empty array`);
    return { exportName, values };
  }
  throw loadError(`${origin}: module has no default export, "plugin" or "plugins" export`);
}

/** Check the shape of an untrusted definition; `where` prefixes every message. */
function checkDefinition(value: unknown, where: string): PluginDefinition {
  if (typeof value !== 'object' || value === null) throw loadError(`${where} is not a plugin definition object`);
  const def = value as Record<string, unknown>;
  if (typeof def.name !== 'string') throw loadError(`${where} has no name (a kebab-case string)`);
  if (!isPluginName(def.name)) throw loadError(`${where} name "${def.name}" is not kebab-case (e.g. "rate-limit")`);
  const of = ` (plugin "${def.name}")`;
  if (typeof def.priority !== 'number' || !Number.isSafeInteger(def.priority)) {
    throw loadError(`${where} has no integer priority${of}`);
  }
  if (typeof def.create !== 'function') throw loadError(`${where} has no create() function${of}`);
  if (def.description !== undefined && typeof def.description !== 'string') {
    throw loadError(`${where} description is not a string${of}`);
  }
  checkSchema(def.schema, where, of);
  return value as PluginDefinition;
}

function checkSchema(schema: unknown, where: string, of: string): void {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw loadError(`${where} has no schema object${of}; build one with Type.Object from @sinclair/typebox`);
  }
  if (!isTypeBoxSchema(schema)) {
    throw loadError(`${where} schema is a plain object, not a TypeBox schema${of}; build it with @sinclair/typebox`);
  }
  try {
    schemaChecker(schema); // compiles once; also proves the schema is usable for validation
  } catch (err) {
    throw loadError(`${where} schema cannot be compiled${of}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}
