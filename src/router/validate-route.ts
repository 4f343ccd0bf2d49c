/**
 * Route checks the JSON schema cannot express. Paths in the results are JSON pointers relative to
 * the route object (e.g. "/match/headers/0/regex"); the config validator prefixes the route's own.
 */
import FindMyWay from 'find-my-way';
import type { RouteConfig, ValuePredicate } from '../config/schema/index.ts';
import { expandPath, parsePattern } from './paths.ts';
import { compileAnchoredRegex } from './predicates.ts';
import { parseTemplate } from './rewrite.ts';

export interface RouteIssue {
  path: string;
  message: string;
}

const HOST_LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const HOST = new RegExp(`^(?:\\*|(?:\\*\\.)?${HOST_LABEL}(?:\\.${HOST_LABEL})*\\.?|\\[[0-9a-f:.]+\\])$`, 'i');

function regexError(build: () => unknown): string | null {
  try {
    build();
    return null;
  } catch (error) {
    return `invalid regular expression: ${(error as Error).message}`;
  }
}

function checkPredicates(list: ValuePredicate[] | undefined, base: string, issues: RouteIssue[]): void {
  list?.forEach((predicate, i) => {
    const at = `${base}/${i}`;
    const kinds = [predicate.exact, predicate.regex, predicate.present].filter((v) => v !== undefined).length;
    if (kinds !== 1) {
      issues.push({ path: at, message: `needs exactly one of exact, regex, present (has ${kinds})` });
    }
    const regex = predicate.regex;
    const error = regex === undefined ? null : regexError(() => compileAnchoredRegex(regex));
    if (error !== null) issues.push({ path: `${at}/regex`, message: error });
  });
}

/** Whether find-my-way accepts the path, and the parameter names a match would carry. */
function checkPath(path: string, at: string, issues: RouteIssue[]): void {
  try {
    const router = FindMyWay();
    for (const variant of expandPath(path)) router.on('GET', variant.path, () => undefined);
  } catch (error) {
    issues.push({ path: at, message: `invalid path: ${(error as Error).message}` });
    return;
  }
  const names = parsePattern(path).names.filter((n) => n !== '*');
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated !== undefined) issues.push({ path: at, message: `parameter ":${repeated}" appears more than once` });
  if (names.includes('__proto__')) issues.push({ path: at, message: 'parameter name "__proto__" is not allowed' });
  if (names.includes('')) issues.push({ path: at, message: 'a parameter needs a name after ":" (use "::" for a literal colon)' });
  if (path.includes('%')) {
    issues.push({ path: at, message: 'paths match the decoded request path: write characters as-is, not percent-encoded' });
  }
}

function checkTemplate(route: RouteConfig, issues: RouteIssue[]): void {
  const template = route.rewrite?.path;
  if (template === undefined) return;
  const declared = route.match.paths.map((p) => parsePattern(p).names);
  for (const part of parseTemplate(template)) {
    if (typeof part === 'string') continue;
    const name = 'param' in part ? part.param : '*';
    const missing = route.match.paths.filter((_, i) => !declared[i]!.includes(name));
    if (missing.length > 0) {
      const shown = name === '*' ? 'the wildcard "*"' : `":${name}"`;
      issues.push({ path: '/rewrite/path', message: `uses ${shown}, which path ${missing.map((p) => `"${p}"`).join(', ')} does not define` });
    }
  }
}

export function validateRouteConfig(route: RouteConfig): RouteIssue[] {
  const issues: RouteIssue[] = [];
  route.match.hosts?.forEach((host, i) => {
    if (!HOST.test(host)) issues.push({ path: `/match/hosts/${i}`, message: `invalid host "${host}": a host name, "*.suffix" or "*", without port` });
  });
  route.match.paths.forEach((path, i) => checkPath(path, `/match/paths/${i}`, issues));
  checkPredicates(route.match.headers, '/match/headers', issues);
  checkPredicates(route.match.query, '/match/query', issues);
  const regex = route.rewrite?.regex;
  const error = regex === undefined ? null : regexError(() => new RegExp(regex.pattern));
  if (error !== null) issues.push({ path: '/rewrite/regex/pattern', message: error });
  checkTemplate(route, issues);
  return issues;
}
