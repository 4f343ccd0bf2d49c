import { Type, type SchemaOptions, type Static, type TSchema } from '@sinclair/typebox';
import type { RequestContext } from '../runtime/context.ts';
import type { HeaderList } from '../runtime/headers.ts';
import { compileTemplate, TemplateError, type CompiledTemplate } from './template.ts';
import { PluginConfigError } from './types.ts';

/**
 * Shared by request-headers and response-headers: the schema of header operations, their
 * compilation (names checked, templates parsed) at create time, and their application per request.
 */

/** RFC 9110 §5.6.2 token. */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** No control characters except HTAB (so no CR, LF or NUL: no header injection). */
export const HEADER_VALUE_PATTERN = '^[^\\u0000-\\u0008\\u000A-\\u001F\\u007F]*$';

export function headerNameSchema(options: SchemaOptions = {}) {
  return Type.String({ pattern: HEADER_NAME_PATTERN, maxLength: 256, description: 'Header name (an RFC 9110 token)', ...options });
}

export function headerValueSchema(options: SchemaOptions = {}) {
  return Type.String({ pattern: HEADER_VALUE_PATTERN, maxLength: 8192, description: 'Header value template', ...options });
}

/** An object keyed by header name (patternProperties; other keys rejected). */
function nameMap<T extends TSchema>(value: T, description: string) {
  return Type.Record(Type.String({ pattern: HEADER_NAME_PATTERN, maxLength: 256 }), value, { additionalProperties: false, description });
}

/** The four operations, applied in this order: rename → remove → set → add. */
export function headerOpsProperties() {
  return {
    rename: Type.Optional(nameMap(headerNameSchema(), 'Rename headers: { from: to } (values kept)')),
    remove: Type.Optional(Type.Array(headerNameSchema(), { description: 'Remove headers (every value)' })),
    set: Type.Optional(
      nameMap(headerValueSchema(), 'Set headers, replacing any existing values: { name: template }; an empty result removes the header'),
    ),
    add: Type.Optional(
      nameMap(
        Type.Union([headerValueSchema(), Type.Array(headerValueSchema())]),
        'Append header values: { name: template | [templates] }; empty results are skipped',
      ),
    ),
  };
}

const HeaderOpsSchema = Type.Object(headerOpsProperties());
export type HeaderOpsConfig = Static<typeof HeaderOpsSchema>;

/**
 * Headers no transform may touch: hop-by-hop (RFC 9110 §7.6.1) and message framing. The proxy
 * owns them; changing them would desynchronise framing (request smuggling, truncated bodies).
 */
export const PROTECTED_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
]);

export interface HeaderOpsPolicy {
  /** `set` may target Host (request side: choose the upstream Host). Never add/remove/rename it. */
  allowHostSet: boolean;
  env?: Record<string, string | undefined>;
}

export interface TemplatedHeader {
  readonly name: string;
  readonly template: CompiledTemplate;
}

export interface HeaderOps {
  /** Flat [from, to, from, to, …]. */
  readonly rename: readonly string[];
  readonly remove: readonly string[];
  readonly set: readonly TemplatedHeader[];
  readonly add: readonly TemplatedHeader[];
}

/** Check names and compile templates; throws PluginConfigError with the exact config path. */
export function compileHeaderOps(config: HeaderOpsConfig, policy: HeaderOpsPolicy): HeaderOps {
  const check = (path: string, name: string, hostAllowed = false) => {
    const lower = name.toLowerCase();
    if (PROTECTED_HEADERS.has(lower)) {
      throw new PluginConfigError(path, `"${name}" is a hop-by-hop or framing header; the proxy manages it`);
    }
    if (lower === 'host' && !hostAllowed) {
      const why = policy.allowHostSet ? 'can only be changed with "set" (exactly one Host is required)' : 'cannot be changed here';
      throw new PluginConfigError(path, `"${name}" ${why}`);
    }
  };
  const rename: string[] = [];
  for (const [from, to] of Object.entries(config.rename ?? {})) {
    check(`rename.${from}`, from);
    check(`rename.${from}`, to);
    rename.push(from, to);
  }
  (config.remove ?? []).forEach((name, i) => check(`remove[${i}]`, name));
  const set = Object.entries(config.set ?? {}).map(([name, source]) => {
    check(`set.${name}`, name, policy.allowHostSet);
    return { name, template: compileAt(`set.${name}`, source, policy) };
  });
  const add = Object.entries(config.add ?? {}).flatMap(([name, sources]) => {
    check(`add.${name}`, name);
    const list = typeof sources === 'string' ? [sources] : sources;
    return list.map((source, i) => ({ name, template: compileAt(typeof sources === 'string' ? `add.${name}` : `add.${name}[${i}]`, source, policy) }));
  });
  return { rename, remove: [...(config.remove ?? [])], set, add };
}

function compileAt(path: string, source: string, policy: HeaderOpsPolicy): CompiledTemplate {
  try {
    return compileTemplate(source, policy.env === undefined ? {} : { env: policy.env });
  } catch (err) {
    if (err instanceof TemplateError) throw new PluginConfigError(path, err.message);
    throw err;
  }
}

/** Apply rename → remove → set → add. A `set` rendering to '' removes the header. */
export function applyHeaderOps(ops: HeaderOps, headers: HeaderList, ctx: RequestContext): void {
  const rename = ops.rename;
  for (let i = 0; i < rename.length; i += 2) headers.rename(rename[i]!, rename[i + 1]!);
  const remove = ops.remove;
  for (let i = 0; i < remove.length; i++) headers.delete(remove[i]!);
  applySetAdd(ops.set, ops.add, headers, ctx);
}

export function applySetAdd(
  set: readonly TemplatedHeader[],
  add: readonly TemplatedHeader[],
  headers: HeaderList,
  ctx: RequestContext,
): void {
  for (let i = 0; i < set.length; i++) {
    const { name, template } = set[i]!;
    const value = template.render(ctx);
    if (value === '') headers.delete(name);
    else headers.set(name, value);
  }
  for (let i = 0; i < add.length; i++) {
    const { name, template } = add[i]!;
    const value = template.render(ctx);
    if (value !== '') headers.add(name, value);
  }
}

/** Whether any op at all is configured (a plugin with none can skip its hooks). */
export function hasHeaderOps(ops: HeaderOps): boolean {
  return ops.rename.length + ops.remove.length + ops.set.length + ops.add.length > 0;
}
