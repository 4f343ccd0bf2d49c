import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { GatewayError, type ErrorCode } from '../errors/index.ts';

// `format: 'uri'` (log sinks, tracing endpoint): an absolute URL. TypeBox rejects unknown formats.
if (!FormatRegistry.Has('uri')) {
  FormatRegistry.Set('uri', (value) => {
    try {
      return new URL(value).protocol.length > 1;
    } catch {
      return false;
    }
  });
}

/** One problem in a configuration; `path` is a JSON Pointer into the config ('' = the whole document). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A rejected configuration, with every issue found. */
export class ConfigError extends GatewayError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], code: ErrorCode = 'SLUICE_ERR_CONFIG_INVALID') {
    super(code, { detail: formatIssues(issues) });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** One line per issue, `path: message` (just the message for document-level issues). */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('\n');
}

/** RFC 6901 child pointer. */
export function pointer(parent: string, key: string | number): string {
  return `${parent}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** Edit distance counting a swap of neighbours as one edit ("intrenal" → "internal"). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** ` (did you mean "x"?)` for the closest candidate within a few edits, else ''. */
export function suggest(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  // Short words get one edit at most, and never a change of every character.
  let bestDistance = Math.min(Math.max(1, Math.floor(word.length / 3)), word.length - 1) + 1;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false',
  object: 'an object', array: 'a list', null: 'null',
};

// Patterns from the schema that deserve words rather than a regular expression.
const PATTERN_NAMES: Record<string, string> = {
  '^[A-Za-z0-9][A-Za-z0-9_.-]*$': 'a name of letters, digits, "_", "." and "-", starting with a letter or digit',
  '^/': 'a path starting with "/"',
  '^(http|https)://': 'an http:// or https:// URL',
  '^[A-Z]+$': 'an upper-case HTTP method such as "GET"',
};

const KIND_EXAMPLES: Record<string, string> = {
  duration: 'a duration such as 500, "250ms", "30s"',
  size: 'a size such as 1024, "16kb", "10mb"',
};

function expected(schema: TSchema): string {
  if (typeof schema['x-kind'] === 'string') return KIND_EXAMPLES[schema['x-kind']] ?? schema['x-kind'];
  if (schema['x-secret'] === true) return 'a string or { file: "path" }';
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) {
    const tags = variantTags(schema);
    if (tags !== undefined) return `an object with "type" one of ${tags.map((t) => JSON.stringify(t)).join(', ')}`;
    const variants = (schema.anyOf as TSchema[]).map(expected);
    const allLiterals = (schema.anyOf as TSchema[]).every((v) => v.const !== undefined);
    return allLiterals && variants.length > 1 ? `one of ${variants.join(', ')}` : variants.join(' or ');
  }
  return TYPE_NAMES[String(schema.type)] ?? 'a valid value';
}

/** The variant whose JSON type matches the value, when exactly one does: its errors are the useful ones. */
function matchingVariant(error: ValueError): ValueError[] | undefined {
  const tagged = taggedVariant(error);
  if (tagged !== undefined) return tagged;
  const kind = Array.isArray(error.value) ? 'array' : error.value === null ? 'null' : typeof error.value;
  const variants = (error.schema.anyOf as TSchema[]).map((v) => (v.type === 'integer' ? 'number' : v.type));
  const hits = variants.flatMap((t, i) => (t === kind ? [i] : []));
  if (hits.length !== 1 || error.schema['x-kind'] !== undefined) return undefined; // "30 sec" is a bad duration, not a bad string
  return [...error.errors[hits[0]!]!];
}

/** The `type` tags of a union of object shapes (log sinks), when every variant has one. */
function variantTags(schema: TSchema): string[] | undefined {
  const tags = (schema.anyOf as TSchema[] | undefined)?.map((v) => (v.properties as Record<string, TSchema> | undefined)?.type?.const);
  return tags !== undefined && tags.length > 0 && tags.every((t) => typeof t === 'string') ? (tags as string[]) : undefined;
}

/** A union of object shapes told apart by a `type` tag: the errors of the variant the value names. */
function taggedVariant(error: ValueError): ValueError[] | undefined {
  const tags = variantTags(error.schema);
  const tag = (error.value as { type?: unknown } | null)?.type;
  if (tags === undefined || typeof tag !== 'string') return undefined;
  const at = tags.indexOf(tag);
  return at < 0 ? undefined : [...error.errors[at]!];
}

function lastKey(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).replace(/~1/g, '/').replace(/~0/g, '~');
}

function message(e: ValueError): string {
  const s = e.schema;
  const got = `, got ${show(e.value)}`;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty: return `missing required property "${lastKey(e.path)}"`;
    case ValueErrorType.ObjectAdditionalProperties: {
      const key = lastKey(e.path);
      return `unknown property "${key}"${suggest(key, Object.keys((s.properties as object | undefined) ?? {}))}`;
    }
    case ValueErrorType.StringPattern: return `expected ${PATTERN_NAMES[s.pattern as string] ?? `a string matching ${s.pattern}`}${got}`;
    case ValueErrorType.StringFormat: return s.format === 'uri' ? `expected an absolute URL such as "https://host:port/path"${got}` : `expected a string in ${s.format} format${got}`;
    case ValueErrorType.StringMinLength: return s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters`;
    case ValueErrorType.StringMaxLength: return `must be at most ${s.maxLength} characters`;
    case ValueErrorType.IntegerMinimum: case ValueErrorType.NumberMinimum: return `must be at least ${s.minimum}${got}`;
    case ValueErrorType.IntegerMaximum: case ValueErrorType.NumberMaximum: return `must be at most ${s.maximum}${got}`;
    case ValueErrorType.ArrayMinItems: return `must have at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`;
    case ValueErrorType.ArrayMaxItems: return `must have at most ${s.maxItems} items`;
    case ValueErrorType.ArrayUniqueItems: return 'must not contain duplicates';
    case ValueErrorType.Union: case ValueErrorType.Literal: case ValueErrorType.String: case ValueErrorType.Integer:
    case ValueErrorType.Number: case ValueErrorType.Boolean: case ValueErrorType.Object: case ValueErrorType.Array:
    case ValueErrorType.Null: return `expected ${expected(s)}${got}`;
    default: return e.message.charAt(0).toLowerCase() + e.message.slice(1);
  }
}

// Compiled once per schema: config checks run on every reload, with possibly thousands of routes.
const checkers = new WeakMap<TSchema, TypeCheck<TSchema>>();

export function checkerFor(schema: TSchema): TypeCheck<TSchema> {
  let checker = checkers.get(schema);
  if (checker === undefined) checkers.set(schema, (checker = TypeCompiler.Compile(schema)));
  return checker;
}

/** Union errors become one message, or the errors of the one variant the value was evidently meant as. */
function flatten(errors: Iterable<ValueError>, out: ValueError[]): ValueError[] {
  for (const e of errors) {
    const inner = e.type === ValueErrorType.Union ? matchingVariant(e) : undefined;
    if (inner === undefined) out.push(e);
    else flatten(inner, out);
  }
  return out;
}

/** Readable schema issues for `value`, one per path (the first, most specific one), under `base`. */
export function schemaIssues(schema: TSchema, value: unknown, base = ''): ConfigIssue[] {
  const checker = checkerFor(schema);
  if (checker.Check(value)) return [];
  const byPath = new Map<string, ConfigIssue>();
  for (const e of flatten(checker.Errors(value), [])) {
    const path = base + e.path;
    if (!byPath.has(path)) byPath.set(path, { path, message: message(e) });
  }
  return [...byPath.values()];
}
