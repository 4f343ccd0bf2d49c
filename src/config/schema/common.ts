import { Type, type SchemaOptions, type Static, type TSchema } from '@sinclair/typebox';

const DurationVariants = () => [
  Type.Integer({ minimum: 0 }),
  Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' }),
];

/** A duration: integer milliseconds, or a string such as "500ms", "30s", "5m", "1h". */
export function duration(options: SchemaOptions = {}) {
  return Type.Union(DurationVariants(), {
    'x-kind': 'duration',
    ...options,
    description: `${options.description ?? 'Duration'} (ms as a number, or "500ms", "30s", "5m", "1h")`,
  });
}
export type Duration = number | string;

/** A size: integer bytes, or a string such as "16kb", "1mb" (powers of 1024). */
export function size(options: SchemaOptions = {}) {
  return Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(b|kb|mb|gb)$' })], {
    'x-kind': 'size',
    ...options,
    description: `${options.description ?? 'Size'} (bytes as a number, or "16kb", "10mb")`,
  });
}
export type Size = number | string;

/**
 * A secret: a literal string, or `{ file: path }` whose content (trailing newline trimmed) is the
 * value. Marked `x-secret` so the admin API redacts it and logs never print it.
 */
export function secret(options: SchemaOptions = {}) {
  return Type.Union(
    [Type.String(), Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false })],
    { 'x-secret': true, ...options, description: `${options.description ?? 'Secret'} (a string, or { file: /path })` },
  );
}
export type Secret = string | { file: string };

/** Identifier for listeners, routes, upstreams and consumers. */
export function name(options: SchemaOptions = {}) {
  return Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 128, ...options });
}

export function nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** Plugin configs keyed by plugin name; each value is validated against that plugin's own schema. */
export function pluginMap(options: SchemaOptions = {}) {
  return Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }), Type.Unknown(), {
    description: 'Plugins by name, each with its config ({} for defaults); validated against the plugin schema',
    ...options,
  });
}
export type PluginMap = Record<string, unknown>;

export type { Static };
