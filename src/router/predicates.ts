/**
 * Header and query predicates, compiled once per route into plain functions of the request.
 * - exact: string equality; regex: ECMAScript source anchored as ^(?:source)$, compiled here once;
 *   present: true = must be present (any value, even ''), false = must be absent.
 * - Header names are matched case-insensitively: the config name is lower-cased and the request's
 *   header keys must be lower case, as node:http and node:http2 deliver them.
 * - A header may carry several values: as an array (repeated header kept apart by Node) or joined
 *   with ", " (Node joins most repeated headers). A value predicate holds when the whole value, an
 *   array element, or one comma-separated member of either satisfies it.
 * - Query parameters are read from the raw query string on demand, only for predicate names, with
 *   no URLSearchParams; keys and values are form-decoded ('+' is a space, %XX decoded). A repeated
 *   parameter holds when any of its values satisfies the predicate; `?a` counts as present with ''.
 */
import type { ValuePredicate } from '../config/schema/index.ts';
import type { RouteRequest } from './types.ts';

export type Predicate = (request: RouteRequest) => boolean;
type ValueTest = (value: string) => boolean;

/** The one place a predicate or rewrite regex is built, so validation and runtime agree. */
export function compileAnchoredRegex(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

function valueTest(predicate: ValuePredicate): ValueTest {
  if (predicate.exact !== undefined) {
    const expected = predicate.exact;
    return (value) => value === expected;
  }
  if (predicate.regex !== undefined) {
    const regex = compileAnchoredRegex(predicate.regex);
    return (value) => regex.test(value);
  }
  throw new Error(`predicate "${predicate.name}" needs exactly one of exact, regex, present`);
}

function listMemberHolds(value: string, test: ValueTest): boolean {
  if (value.indexOf(',') === -1) return false;
  for (const member of value.split(',')) {
    if (test(member.trim())) return true;
  }
  return false;
}

export function headerValueHolds(value: string | string[] | undefined, test: ValueTest): boolean {
  if (value === undefined) return false;
  if (typeof value === 'string') return test(value) || listMemberHolds(value, test);
  for (const item of value) {
    if (test(item) || listMemberHolds(item, test)) return true;
  }
  return false;
}

function decodeForm(raw: string): string {
  if (raw.indexOf('%') === -1 && raw.indexOf('+') === -1) return raw;
  const spaced = raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced; // malformed escapes: compare the text as sent
  }
}

function keyIs(query: string, start: number, end: number, name: string): boolean {
  const length = end - start;
  if (length === name.length && query.startsWith(name, start)) return true;
  if (length < name.length) return false; // encoding only makes a key longer
  for (let i = start; i < end; i++) {
    const code = query.charCodeAt(i);
    if (code === 37 || code === 43) return decodeForm(query.slice(start, end)) === name;
  }
  return false;
}

/** True when some value of query parameter `name` satisfies `test` (called with the decoded value). */
export function queryValueHolds(query: string, name: string, test: ValueTest): boolean {
  const length = query.length;
  let start = 0;
  while (start < length) {
    let end = query.indexOf('&', start);
    if (end === -1) end = length;
    let eq = query.indexOf('=', start);
    if (eq === -1 || eq > end) eq = end;
    if (end > start && keyIs(query, start, eq, name)) {
      if (test(eq < end ? decodeForm(query.slice(eq + 1, end)) : '')) return true;
    }
    start = end + 1;
  }
  return false;
}

const anyValue: ValueTest = () => true;

function headerPredicate(predicate: ValuePredicate): Predicate {
  const name = predicate.name.toLowerCase();
  if (predicate.present === true) return (request) => request.headers[name] !== undefined;
  if (predicate.present === false) return (request) => request.headers[name] === undefined;
  const test = valueTest(predicate);
  return (request) => headerValueHolds(request.headers[name], test);
}

function queryPredicate(predicate: ValuePredicate): Predicate {
  const name = predicate.name;
  if (predicate.present === true) return (request) => queryValueHolds(request.query, name, anyValue);
  if (predicate.present === false) return (request) => !queryValueHolds(request.query, name, anyValue);
  const test = valueTest(predicate);
  return (request) => queryValueHolds(request.query, name, test);
}

export function compilePredicates(headers: ValuePredicate[] = [], query: ValuePredicate[] = []): Predicate[] {
  return [...headers.map(headerPredicate), ...query.map(queryPredicate)];
}

export function allHold(predicates: readonly Predicate[], request: RouteRequest): boolean {
  for (let i = 0; i < predicates.length; i++) {
    if (!predicates[i]!(request)) return false;
  }
  return true;
}
