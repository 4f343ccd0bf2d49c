/**
 * Path rewrite, compiled once per route. Given several, they apply in this order, each to the
 * result of the previous one: stripPrefix → replacePrefix → regex → path template. The rewriter
 * returns the path only; the caller re-attaches the query string.
 *
 * - stripPrefix "/api": strips at a segment boundary only ("/api/x" → "/x", "/api" → "/",
 *   "/apix" unchanged). A trailing slash in the prefix is ignored; the result is never empty.
 * - replacePrefix {from, to}: the same boundary rule; "/" joins without doubling.
 * - regex {pattern, replacement}: String.replace with the pattern compiled once (first match only,
 *   unanchored unless the pattern anchors itself; `$1`, `$<name>` in the replacement). A result
 *   without a leading '/' gets one.
 * - path template "/users/:id/*": `:name` inserts the matched param encoded with
 *   encodeURIComponent (a param of "." or ".." is sent as %2E so it cannot become a dot segment);
 *   `*` inserts the wildcard as it appeared in the request path (still percent-encoded, so an
 *   encoded "%2F" stays one segment); `::` is a literal ':'. A param missing from the match inserts ''.
 */
import type { RewriteConfig } from '../config/schema/index.ts';
import type { PathRewriter } from './types.ts';

type Step = (path: string, params: Record<string, string>, matched: string) => string;

/** "/api/" → "/api"; "/" → "" (strips nothing). */
function trimPrefix(prefix: string): string {
  return prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
}

/** The rest of `path` after `prefix` at a segment boundary ('' or starting with '/'), or null. */
function afterPrefix(path: string, prefix: string): string | null {
  if (!path.startsWith(prefix)) return null;
  const rest = path.slice(prefix.length);
  return rest === '' || rest.charCodeAt(0) === 47 ? rest : null;
}

function stripPrefixStep(prefix: string): Step {
  const from = trimPrefix(prefix);
  return (path) => {
    const rest = from === '' ? null : afterPrefix(path, from);
    return rest === null ? path : rest === '' ? '/' : rest;
  };
}

function replacePrefixStep(fromPrefix: string, to: string): Step {
  const from = trimPrefix(fromPrefix);
  const base = trimPrefix(to);
  return (path) => {
    const rest = afterPrefix(path, from);
    if (rest === null) return path;
    const joined = base + rest;
    return joined === '' ? '/' : joined;
  };
}

function regexStep(pattern: string, replacement: string): Step {
  const regex = new RegExp(pattern);
  return (path) => {
    const out = path.replace(regex, replacement);
    return out.charCodeAt(0) === 47 ? out : '/' + out;
  };
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** UTF-16 length that the raw unit at `i` (a char or a %XX byte) contributes once decoded. */
function decodedUnits(raw: string, i: number): number {
  if (raw.charCodeAt(i) !== 37) return 1;
  const byte = (hexValue(raw.charCodeAt(i + 1)) << 4) | hexValue(raw.charCodeAt(i + 2));
  if (byte < 0x80) return 1;
  if (byte < 0xc0) return 0; // UTF-8 continuation byte: counted with its lead byte
  return byte < 0xf0 ? 1 : 2;
}

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/**
 * The wildcard as sent: the shortest tail of the matched (still encoded) path that decodes to
 * the decoded wildcard value. Falls back to re-encoding each segment of the decoded value.
 */
export function rawWildcard(matched: string, decoded: string): string {
  if (decoded === '') return '';
  let total = 0;
  for (let i = 0; i < matched.length; i += matched.charCodeAt(i) === 37 ? 3 : 1) total += decodedUnits(matched, i);
  const target = total - decoded.length;
  let seen = 0;
  for (let i = 0; i < matched.length && seen <= target; i += matched.charCodeAt(i) === 37 ? 3 : 1) {
    if (seen === target && decodedUnits(matched, i) !== 0) {
      const tail = matched.slice(i);
      if (safeDecode(tail) === decoded) return tail;
    }
    seen += decodedUnits(matched, i);
  }
  return decoded.split('/').map(encodeURIComponent).join('/');
}

function encodeParam(value: string): string {
  return value === '.' || value === '..' ? value.replaceAll('.', '%2E') : encodeURIComponent(value);
}

type Part = string | { param: string } | { wildcard: true };

/** Splits a template into literal text, `:name` params and the `*` wildcard. */
export function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  const token = /::|:([A-Za-z_$][A-Za-z0-9_$]*)|\*/g;
  let last = 0;
  for (let m = token.exec(template); m !== null; m = token.exec(template)) {
    literal += template.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[0] === '::') {
      literal += ':';
      continue;
    }
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(m[0] === '*' ? { wildcard: true } : { param: m[1]! });
  }
  literal += template.slice(last);
  if (literal !== '') parts.push(literal);
  return parts;
}

function templateStep(template: string): Step {
  const parts = parseTemplate(template);
  return (_path, params, matched) => {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else if ('param' in part) out += encodeParam(params[part.param] ?? '');
      else out += rawWildcard(matched, params['*'] ?? '');
    }
    return out;
  };
}

export function compileRewrite(rewrite: RewriteConfig | undefined): PathRewriter | undefined {
  if (rewrite === undefined) return undefined;
  const steps: Step[] = [];
  if (rewrite.stripPrefix !== undefined) steps.push(stripPrefixStep(rewrite.stripPrefix));
  if (rewrite.replacePrefix !== undefined) steps.push(replacePrefixStep(rewrite.replacePrefix.from, rewrite.replacePrefix.to));
  if (rewrite.regex !== undefined) steps.push(regexStep(rewrite.regex.pattern, rewrite.regex.replacement));
  if (rewrite.path !== undefined) steps.push(templateStep(rewrite.path));
  if (steps.length === 0) return undefined;
  if (steps.length === 1) {
    const only = steps[0]!;
    return (path, params) => only(path, params, path);
  }
  return (path, params) => {
    let out = path;
    for (const step of steps) out = step(out, params, path);
    return out;
  };
}
