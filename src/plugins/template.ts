import type { RequestContext } from '../runtime/context.ts';

/**
 * Header-value templates: `${variable}` placeholders, `$${` for a literal `${`. A template is parsed
 * once (at plugin create time) into literal parts and getter functions, so rendering a request is a
 * loop of string concatenations: no parsing, no regex building, no lookups by name.
 */
export type TemplateGetter = (ctx: RequestContext) => string;

export interface CompiledTemplate {
  readonly source: string;
  /** Variable names in order of appearance (`env.*` ones included). */
  readonly variables: readonly string[];
  /** True when the value is the same for every request (only literals and `env.*`). */
  readonly isStatic: boolean;
  /** True when a variable needs the chosen target (`upstream`, `target`): render after target pick. */
  readonly needsTarget: boolean;
  render(ctx: RequestContext): string;
}

export interface TemplateOptions {
  /** Where `env.NAME` is read; defaults to process.env. Read once, at compile time. */
  env?: Record<string, string | undefined>;
}

/** Raised for a template that cannot be compiled; `message` says what and where. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Simple variables and their getters; documented in the plugin reference. */
const SIMPLE: Record<string, TemplateGetter> = {
  client_ip: (ctx) => ctx.clientIp,
  client_port: (ctx) => String(ctx.clientPort),
  request_id: (ctx) => ctx.id,
  method: (ctx) => ctx.method,
  host: (ctx) => ctx.host,
  path: (ctx) => ctx.path,
  query: (ctx) => ctx.query,
  scheme: (ctx) => ctx.scheme,
  route: (ctx) => ctx.route?.name ?? '',
  upstream: (ctx) => ctx.target?.upstream ?? '',
  target: (ctx) => ctx.target?.url ?? '',
  time_iso: () => new Date().toISOString(),
  time_ms: () => String(Date.now()),
};

/** Every variable form accepted, for docs and error messages. */
export const TEMPLATE_VARIABLES: readonly string[] = [
  ...Object.keys(SIMPLE),
  'header.<name>',
  'query.<name>',
  'env.<NAME>',
];

const TARGET_VARIABLES = new Set(['upstream', 'target']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters node:http refuses in a header value (and CR/LF: header injection). */
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const INVALID_VALUE_CHARS = /[^\t\x20-\x7e\x80-\xff]/g;

/** Drop characters a header value cannot carry; request-derived values pass through here. */
export function sanitizeHeaderValue(value: string): string {
  return INVALID_VALUE_CHAR.test(value) ? value.replace(INVALID_VALUE_CHARS, '') : value;
}

type Part = string | { name: string; get: TemplateGetter };

export function compileTemplate(source: string, options: TemplateOptions = {}): CompiledTemplate {
  const env = options.env ?? process.env;
  const variables: string[] = [];
  const parts = parseTemplate(source, env, variables);
  return {
    source,
    variables,
    isStatic: parts.every((p) => typeof p === 'string'),
    needsTarget: variables.some((v) => TARGET_VARIABLES.has(v)),
    render: buildRenderer(parts),
  };
}

/** Split into literals (adjacent ones merged, env values inlined) and variable getters. */
function parseTemplate(source: string, env: Record<string, string | undefined>, variables: string[]): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < source.length) {
    const dollar = source.indexOf('$', i);
    if (dollar === -1) {
      literal += source.slice(i);
      break;
    }
    literal += source.slice(i, dollar);
    if (source.startsWith('$${', dollar)) {
      literal += '${';
      i = dollar + 3;
    } else if (source[dollar + 1] === '{') {
      const end = source.indexOf('}', dollar + 2);
      if (end === -1) throw new TemplateError(`unterminated "\${" at position ${dollar} in "${source}"`);
      const name = source.slice(dollar + 2, end);
      variables.push(name);
      const resolved = resolveVariable(name, env);
      if (typeof resolved === 'string') literal += resolved;
      else {
        if (literal !== '') parts.push(literal);
        literal = '';
        parts.push({ name, get: resolved });
      }
      i = end + 1;
    } else {
      literal += '$';
      i = dollar + 1;
    }
  }
  if (literal !== '' || parts.length === 0) parts.push(literal);
  return parts;
}

/** A getter, or a string for values fixed at compile time (`env.*`). */
function resolveVariable(name: string, env: Record<string, string | undefined>): TemplateGetter | string {
  const simple = Object.hasOwn(SIMPLE, name) ? SIMPLE[name] : undefined;
  if (simple !== undefined) return simple;
  const dot = name.indexOf('.');
  const kind = dot === -1 ? name : name.slice(0, dot);
  const arg = dot === -1 ? '' : name.slice(dot + 1);
  if (kind === 'header' && HEADER_NAME.test(arg)) return headerGetter(arg.toLowerCase());
  if (kind === 'query' && arg !== '' && !/[&=#\s]/.test(arg)) return queryGetter(arg);
  if (kind === 'env' && ENV_NAME.test(arg)) return envValue(arg, env);
  throw new TemplateError(`unknown template variable "\${${name}}"; known: ${TEMPLATE_VARIABLES.join(', ')}`);
}

function envValue(name: string, env: Record<string, string | undefined>): string {
  const value = env[name];
  if (value === undefined) throw new TemplateError(`environment variable ${name} (in "\${env.${name}}") is not set`);
  if (INVALID_VALUE_CHAR.test(value)) {
    throw new TemplateError(`environment variable ${name} contains characters not allowed in a header value`);
  }
  return value;
}

function headerGetter(lowerName: string): TemplateGetter {
  return (ctx) => {
    const value = ctx.headers[lowerName];
    if (value === undefined) return '';
    return typeof value === 'string' ? value : value.join(', ');
  };
}

/** The raw (still percent-encoded) value of the first `name=` pair; keys are compared literally. */
function queryGetter(name: string): TemplateGetter {
  const prefix = `${name}=`;
  return (ctx) => {
    const query = ctx.query;
    let start = 0;
    while (start <= query.length) {
      let end = query.indexOf('&', start);
      if (end === -1) end = query.length;
      if (query.startsWith(prefix, start)) return query.slice(start + prefix.length, end);
      if (end - start === name.length && query.startsWith(name, start)) return ''; // `?flag`
      start = end + 1;
    }
    return '';
  };
}

/** Specialised renderers for the common shapes; the general case is a plain loop. */
function buildRenderer(parts: Part[]): (ctx: RequestContext) => string {
  if (parts.length === 1) {
    const only = parts[0]!;
    if (typeof only === 'string') return () => only;
    const get = only.get;
    return (ctx) => sanitizeHeaderValue(get(ctx));
  }
  const literals = parts.map((p) => (typeof p === 'string' ? p : ''));
  const getters = parts.map((p) => (typeof p === 'string' ? undefined : p.get));
  const n = parts.length;
  return (ctx) => {
    let out = '';
    for (let i = 0; i < n; i++) {
      const get = getters[i];
      out += get === undefined ? literals[i] : get(ctx);
    }
    return sanitizeHeaderValue(out);
  };
}
