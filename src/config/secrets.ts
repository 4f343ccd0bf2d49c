import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { ConfigError, pointer, type ConfigIssue } from './issues.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export const REDACTED = '[redacted]';

/** Where plugin configs live: the root schema types them as unknown, each plugin's schema does the rest. */
export function pluginMapsOf(config: unknown): Array<{ path: string; map: Obj }> {
  if (!isObj(config)) return [];
  const out: Array<{ path: string; map: Obj }> = [];
  const add = (path: string, map: unknown) => {
    if (isObj(map)) out.push({ path, map });
  };
  if (isObj(config.plugins)) add('/plugins/global', config.plugins.global);
  for (const kind of ['routes', 'consumers']) {
    const items = config[kind];
    if (Array.isArray(items)) items.forEach((item, i) => add(`/${kind}/${i}/plugins`, isObj(item) ? item.plugins : undefined));
  }
  return out;
}

const PLUGIN_MAP_PATH = /^\/(?:(?:routes|consumers)\/[0-9]+\/plugins|plugins\/global)$/;

interface Found {
  path: string;
  value: unknown;
}

/** Collects every present value whose schema node is marked `x-secret`, walking value and schema together. */
function collect(schema: TSchema, value: unknown, path: string, plugins: ReadonlyMap<string, TSchema>, out: Found[]): void {
  if (value === undefined) return;
  if (schema['x-secret'] === true) {
    out.push({ path, value });
  } else if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((v, i) => collect(schema.items as TSchema, v, pointer(path, i), plugins, out));
  } else if (!isObj(value)) {
    return;
  } else if (PLUGIN_MAP_PATH.test(path)) {
    for (const [name, config] of Object.entries(value)) {
      const pluginSchema = plugins.get(name);
      if (pluginSchema !== undefined) collect(pluginSchema, config, pointer(path, name), plugins, out);
    }
  } else {
    collectChildren(schema, value, path, plugins, out);
  }
}

function collectChildren(schema: TSchema, value: Obj, path: string, plugins: ReadonlyMap<string, TSchema>, out: Found[]): void {
  const props = isObj(schema.properties) ? (schema.properties as Record<string, TSchema>) : {};
  const patterns = isObj(schema.patternProperties) ? Object.entries(schema.patternProperties as Record<string, TSchema>) : [];
  const extra = isObj(schema.additionalProperties) ? (schema.additionalProperties as TSchema) : undefined;
  for (const [key, child] of Object.entries(value)) {
    const childSchema = props[key] ?? patterns.find(([re]) => new RegExp(re).test(key))?.[1] ?? extra;
    if (childSchema !== undefined) collect(childSchema, child, pointer(path, key), plugins, out);
  }
  // A union of object shapes: secrets can only be found in variants that describe properties.
  for (const variant of Array.isArray(schema.anyOf) ? (schema.anyOf as TSchema[]) : []) {
    if (isObj(variant.properties) || isObj(variant.patternProperties)) collectChildren(variant, value, path, plugins, out);
  }
}

function setAt(root: unknown, path: string, value: unknown): void {
  const keys = path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node = root as Obj;
  for (const key of keys.slice(0, -1)) node = node[key] as Obj;
  node[keys[keys.length - 1]!] = value;
}

export type PluginSchemas = ReadonlyMap<string, TSchema>;

/** Secrets in `config` per `schema` (plus plugin configs per their plugins' schemas). */
export function findSecrets(config: unknown, schema: TSchema, pluginSchemas: PluginSchemas = new Map()): Found[] {
  const out: Found[] = [];
  collect(schema, config, '', pluginSchemas, out);
  return out;
}

/**
 * Replaces every `{ file }` secret with the file's content (trailing newlines trimmed; relative
 * paths from `baseDir`). Returns a copy and the files read; throws ConfigError naming each
 * unreadable file by its config path.
 */
export async function resolveSecrets<T>(
  config: T,
  schema: TSchema,
  baseDir: string,
  pluginSchemas: PluginSchemas = new Map(),
): Promise<{ config: T; files: string[] }> {
  const result = structuredClone(config);
  const refs = findSecrets(result, schema, pluginSchemas).filter((s) => isObj(s.value) && typeof s.value.file === 'string');
  const issues: ConfigIssue[] = [];
  const files: string[] = [];
  await Promise.all(
    refs.map(async ({ path, value }) => {
      const file = resolve(baseDir, (value as { file: string }).file);
      try {
        setAt(result, path, (await readFile(file, 'utf8')).replace(/[\r\n]+$/, ''));
        files.push(file);
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        issues.push({ path, message: `cannot read secret file "${file}" (${reason})` });
      }
    }),
  );
  if (issues.length > 0) throw new ConfigError(issues.sort((a, b) => refs.findIndex((r) => r.path === a.path) - refs.findIndex((r) => r.path === b.path)));
  return { config: result, files: files.sort() };
}

/** A deep copy with every secret (literal or file reference) replaced by "[redacted]", for display. */
export function redactSecrets<T>(config: T, schema: TSchema, pluginSchemas: PluginSchemas = new Map()): T {
  const result = structuredClone(config);
  for (const { path } of findSecrets(result, schema, pluginSchemas)) setAt(result, path, REDACTED);
  return result;
}
