import type { RequestContext } from '../../../runtime/context.ts';
import { definePlugin, PluginConfigError, type PluginInstance } from '../../types.ts';
import { CorsSchema, type CorsConfig } from './schema.ts';

/**
 * cors: answers preflights (OPTIONS with Access-Control-Request-Method) itself with 204, and adds
 * Access-Control-Allow-Origin & co. to every response for an allowed Origin — proxied, error and
 * plugin answers alike — through ctx.responseHeaders. The upstream's own Access-Control-* headers
 * are dropped for such requests so the browser never sees two contradicting values.
 * Everything but the origin check is rendered once, when the config is compiled.
 */

const DEFAULT_METHODS = 'GET, HEAD, PUT, PATCH, POST, DELETE';

export interface OriginMatcher {
  any: boolean;
  exact: ReadonlySet<string>;
  /** [scheme + '://', '.' + domain] of https://*.example.com entries. */
  wildcards: readonly (readonly [string, string])[];
}

export function compileOrigins(origins: readonly string[]): OriginMatcher {
  const exact = new Set<string>();
  const wildcards: [string, string][] = [];
  let any = false;
  origins.forEach((origin, i) => {
    if (origin === '*') any = true;
    else if (origin.includes('*')) {
      const match = /^(https?:\/\/)\*(\.[^*/]+)$/.exec(origin.toLowerCase());
      if (match === null) throw new PluginConfigError(`origins.${i}`, `"${origin}": a wildcard is only allowed as the first label (https://*.example.com)`);
      wildcards.push([match[1]!, match[2]!]);
    } else exact.add(origin.toLowerCase());
  });
  return { any, exact, wildcards };
}

export function originAllowed(m: OriginMatcher, origin: string): boolean {
  if (m.any) return true;
  const lower = origin.toLowerCase();
  if (m.exact.has(lower)) return true;
  for (const [scheme, suffix] of m.wildcards) {
    // Host part (port allowed) must end with .domain and have a label before it.
    if (!lower.startsWith(scheme)) continue;
    const host = lower.slice(scheme.length).replace(/:\d+$/, '');
    if (host.length > suffix.length && host.endsWith(suffix)) return true;
  }
  return false;
}

function compile(config: CorsConfig) {
  const matcher = compileOrigins(config.origins ?? ['*']);
  const credentials = config.credentials === true;
  const allowed = config.allowedHeaders ?? ['*'];
  return {
    matcher,
    credentials,
    // With credentials browsers refuse "*": echo the origin instead.
    star: matcher.any && !credentials,
    methods: (config.methods ?? []).length > 0 ? config.methods!.map((m) => m.toUpperCase()).join(', ') : DEFAULT_METHODS,
    reflectHeaders: allowed.includes('*'),
    allowHeaders: allowed.filter((h) => h !== '*').join(', '),
    expose: (config.exposeHeaders ?? []).join(', '),
    maxAge: config.maxAge === undefined ? undefined : String(config.maxAge),
  };
}

type Compiled = ReturnType<typeof compile>;

function originHeaders(c: Compiled, origin: string, out: string[]): void {
  out.push('access-control-allow-origin', c.star ? '*' : origin);
  if (c.credentials) out.push('access-control-allow-credentials', 'true');
}

function preflight(c: Compiled, ctx: RequestContext, origin: string) {
  // Vary: Origin is already in ctx.responseHeaders (added to this answer too).
  const headers: Record<string, string> = { vary: 'Access-Control-Request-Method, Access-Control-Request-Headers' };
  const flat: string[] = [];
  originHeaders(c, origin, flat);
  for (let i = 0; i < flat.length; i += 2) headers[flat[i]!] = flat[i + 1]!;
  headers['access-control-allow-methods'] = c.methods;
  const requested = ctx.headers['access-control-request-headers'];
  const allowHeaders = c.reflectHeaders && typeof requested === 'string' ? requested : c.allowHeaders;
  if (allowHeaders !== '') headers['access-control-allow-headers'] = allowHeaders;
  if (c.maxAge !== undefined) headers['access-control-max-age'] = c.maxAge;
  return { status: 204, headers };
}

export const corsPlugin = definePlugin({
  name: 'cors',
  // Before auth (10000+ is network/security): a preflight carries no credentials and must not be denied.
  priority: 10900,
  description: 'Cross-origin resource sharing: answers preflights and adds CORS headers to responses for allowed origins.',
  schema: CorsSchema,
  create(config): PluginInstance {
    const c = compile(config);
    return {
      onRequest(ctx) {
        const origin = ctx.headers.origin;
        if (typeof origin !== 'string') return;
        // Responses differ by Origin: caches must key on it, allowed or not.
        if (!c.star) ctx.responseHeaders.push('vary', 'Origin');
        if (!originAllowed(c.matcher, origin)) return;
        ctx.state.cors = true;
        if (ctx.method === 'OPTIONS' && ctx.headers['access-control-request-method'] !== undefined) return preflight(c, ctx, origin);
        originHeaders(c, origin, ctx.responseHeaders);
        if (c.expose !== '') ctx.responseHeaders.push('access-control-expose-headers', c.expose);
      },
      onResponse(ctx, res) {
        if (ctx.state.cors !== true) return;
        const raw = res.headers.raw;
        for (let i = raw.length - 2; i >= 0; i -= 2) {
          if (raw[i]!.toLowerCase().startsWith('access-control-')) raw.splice(i, 2);
        }
      },
    };
  },
});
