import { Kind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { PluginDefinition } from './types.ts';

/** One problem in a plugin config, with its dotted path (e.g. `routes[2].plugins.cors.origins[0]`). */
export interface PluginConfigIssue {
  path: string;
  message: string;
}

export interface PluginConfigResult {
  /** The config with schema defaults applied (a copy; the input is not changed). */
  value: unknown;
  issues: PluginConfigIssue[];
}

// Schemas are compiled once per definition, not once per route or per snapshot.
const checkers = new WeakMap<TSchema, TypeCheck<TSchema>>();

/** Whether a value carries TypeBox's Kind symbol (Symbol.for, so other TypeBox copies count too). */
export function isTypeBoxSchema(value: unknown): value is TSchema {
  return typeof value === 'object' && value !== null && Kind in value;
}

export function schemaChecker(schema: TSchema): TypeCheck<TSchema> {
  let checker = checkers.get(schema);
  if (checker === undefined) {
    checker = TypeCompiler.Compile(schema);
    checkers.set(schema, checker);
  }
  return checker;
}

/**
 * Validate a plugin config against the plugin's schema and apply its defaults. `null`/`undefined`
 * mean "defaults" (YAML `request-id:` with nothing after it), so they validate as `{}`.
 */
export function validatePluginConfig(definition: PluginDefinition, config: unknown, path: string): PluginConfigResult {
  const input = config === undefined || config === null ? {} : Value.Clone(config);
  const value: unknown = Value.Default(definition.schema, input);
  const checker = schemaChecker(definition.schema);
  if (checker.Check(value)) return { value, issues: [] };
  const issues: PluginConfigIssue[] = [];
  for (const error of checker.Errors(value)) {
    issues.push({ path: path + pointerToPath(error.path), message: error.message });
  }
  return { value, issues };
}

/** `/set/x-a` → `.set.x-a`, `/remove/0` → `.remove[0]` (JSON pointer escapes decoded). */
export function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^(0|[1-9][0-9]*)$/.test(segment) ? `[${segment}]` : `.${segment}`;
  }
  return out;
}
