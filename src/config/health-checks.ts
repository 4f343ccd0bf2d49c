import type { ConfigIssue } from './issues.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What the schema cannot say about `healthCheck` (each with its exact path): a regex that does not
 * compile, a backwards status range, and an HTTP/1.1 check against an HTTP/2-only (h2c) target.
 */
export function healthCheckIssues(upstream: Obj, base: string): ConfigIssue[] {
  const check = upstream.healthCheck;
  if (!isObj(check)) return [];
  const issues: ConfigIssue[] = [];
  const at = `${base}/healthCheck`;
  if (isObj(check.body) && typeof check.body.regex === 'string') {
    try {
      new RegExp(check.body.regex);
    } catch (error) {
      issues.push({ path: `${at}/body/regex`, message: `invalid regular expression: ${(error as Error).message}` });
    }
  }
  if (Array.isArray(check.expectedStatuses)) {
    check.expectedStatuses.forEach((s, k) => {
      if (typeof s !== 'string') return;
      const [from, to] = s.split('-').map(Number);
      if (from !== undefined && to !== undefined && from > to) issues.push({ path: `${at}/expectedStatuses/${k}`, message: `range "${s}" is backwards` });
    });
  }
  const type = check.type ?? 'http';
  const targets = Array.isArray(upstream.targets) ? upstream.targets : [];
  const h2only = upstream.protocol === 'http2'
    ? targets.some((t) => isObj(t) && typeof t.url === 'string' && !t.url.startsWith('https://'))
    : targets.some((t) => isObj(t) && typeof t.url === 'string' && t.url.startsWith('h2c://'));
  if (type === 'http' && h2only) {
    issues.push({ path: `${at}/type`, message: 'http checks speak HTTP/1.1, but this upstream has HTTP/2 cleartext (h2c) targets; use type "grpc" or "tcp"' });
  }
  return issues;
}
