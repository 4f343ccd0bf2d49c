import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, parse as parseYamlScalar, parseDocument, Scalar } from 'yaml';
import { ConfigError, pointer, type ConfigIssue } from './issues.ts';

export type ConfigFormat = 'yaml' | 'json';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Shown in syntax errors (file name); defaults to "config". */
  sourceName?: string;
}

/** Environment variable names are upper case; lower-case and dotted references are plugin templates. */
const VAR_NAME = /^[A-Z_][A-Z0-9_]*$/;
const TEMPLATE_REF = /^[a-z][a-z0-9_]*(\.[A-Za-z0-9_-]+)?$/;

/**
 * Expands `${VAR}` and `${VAR:-default}` (default when unset or empty, as in sh); `$${` is a
 * literal `${`. Lower-case references such as `${route}` or `${header.x-id}` are left for the
 * plugin templates that use them. Runs on parsed string scalars, so a variable can never inject
 * structure.
 */
export function substitute(text: string, env: NodeJS.ProcessEnv, path: string, issues: ConfigIssue[]): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i++];
      continue;
    }
    const end = text.indexOf('}', i + 2);
    if (end < 0) {
      issues.push({ path, message: 'unterminated "${" (write "$${" for a literal "${")' });
      return text;
    }
    const ref = text.slice(i + 2, end);
    const sep = ref.indexOf(':-');
    const name = sep < 0 ? ref : ref.slice(0, sep);
    const value = env[name];
    if (sep < 0 && TEMPLATE_REF.test(name)) out += `\${${name}}`;
    else if (!VAR_NAME.test(name)) issues.push({ path, message: `invalid variable reference "\${${ref}}"` });
    else if (sep >= 0) out += value === undefined || value === '' ? ref.slice(sep + 2) : value;
    else if (value === undefined) issues.push({ path, message: `environment variable ${name} is not set (use \${${name}:-default} for a default)` });
    else out += value;
    i = end + 1;
  }
  return out;
}

const WHOLE_REF = /^\$\{[^}]*\}$/;

/** A plain (unquoted) YAML scalar that is exactly one reference reads as if typed in: 8080 → number. */
function scalarValue(node: Scalar, result: string): unknown {
  if (node.type !== Scalar.PLAIN || !WHOLE_REF.test(String(node.value))) return result;
  try {
    const typed: unknown = parseYamlScalar(result);
    return typeof typed === 'number' || typeof typed === 'boolean' ? typed : result;
  } catch {
    return result;
  }
}

function substituteNode(node: unknown, path: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): void {
  if (isAlias(node)) return; // the anchored node is substituted where it is defined
  if (isScalar(node)) {
    if (typeof node.value === 'string') node.value = scalarValue(node, substitute(node.value, env, path, issues));
  } else if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      substituteNode(pair.value, pointer(path, String(key)), env, issues);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => substituteNode(item, pointer(path, index), env, issues));
  }
}

function substituteValue(value: unknown, path: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): unknown {
  if (typeof value === 'string') return substitute(value, env, path, issues);
  if (Array.isArray(value)) return value.map((v, i) => substituteValue(v, pointer(path, i), env, issues));
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) obj[key] = substituteValue(obj[key], pointer(path, key), env, issues);
  }
  return value;
}

function parseYaml(text: string, env: NodeJS.ProcessEnv, source: string): unknown {
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => {
      const at = e.linePos?.[0];
      const where = at === undefined ? source : `${source}:${at.line}:${at.col}`;
      // The pretty message repeats the position and adds a source excerpt: keep the first sentence.
      const text = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return { path: '', message: `${where}: YAML syntax error: ${text}` };
    });
    throw new ConfigError(issues, 'SLUICE_ERR_CONFIG_LOAD');
  }
  const issues: ConfigIssue[] = [];
  substituteNode(doc.contents, '', env, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return doc.toJS();
}

function parseJson(text: string, env: NodeJS.ProcessEnv, source: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const pos = /at position (\d+)/.exec(message);
    let where = source;
    if (pos !== null) {
      const before = text.slice(0, Number(pos[1])).split('\n');
      where = `${source}:${before.length}:${before[before.length - 1]!.length + 1}`;
    }
    throw new ConfigError([{ path: '', message: `${where}: JSON syntax error: ${message}` }], 'SLUICE_ERR_CONFIG_LOAD');
  }
  // JSON strings are always quoted, so substituted values stay strings.
  const issues: ConfigIssue[] = [];
  value = substituteValue(value, '', env, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return value;
}

/** Parses config text and expands `${VAR}` references. Throws ConfigError listing every problem. */
export function loadConfigText(text: string, format: ConfigFormat, options: LoadOptions = {}): unknown {
  const env = options.env ?? process.env;
  const source = options.sourceName ?? 'config';
  return format === 'json' ? parseJson(text, env, source) : parseYaml(text, env, source);
}

export function formatOf(path: string): ConfigFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.json') return 'json';
  return undefined;
}

export interface LoadedFile {
  raw: unknown;
  /** Directory of the config file: relative paths in the config (secret files, plugins) resolve here. */
  baseDir: string;
  /** Absolute paths of the files read (for watching). */
  files: string[];
}

/** Reads a .yaml/.yml/.json file and expands `${VAR}` references. */
export async function loadConfigFile(path: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<LoadedFile> {
  const file = resolve(path);
  const format = formatOf(file);
  if (format === undefined) {
    throw new ConfigError([{ path: '', message: `${path}: unsupported config file extension (use .yaml, .yml or .json)` }], 'SLUICE_ERR_CONFIG_LOAD');
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError([{ path: '', message: `${path}: cannot read config file (${reason})` }], 'SLUICE_ERR_CONFIG_LOAD');
  }
  const raw = loadConfigText(text, format, { env: options.env ?? process.env, sourceName: path });
  return { raw, baseDir: dirname(file), files: [file] };
}
