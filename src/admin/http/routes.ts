import type { IncomingMessage, ServerResponse } from 'node:http';
import FindMyWay from 'find-my-way';
import { compileValidator, type Validator } from './body.ts';
import type { AdminRoute } from './types.ts';

/** An unauthenticated GET endpoint served as is (probes, metrics). */
export interface PublicRoute {
  path: string;
  handler(req: IncomingMessage, res: ServerResponse): void;
}

/** A route with everything the request path needs precomputed (validators compiled, action named). */
export interface CompiledRoute {
  route: AdminRoute;
  body: Validator | undefined;
  query: Validator | undefined;
  action: string;
  /** Audit successful and failed calls (denials are always audited). */
  audit: boolean;
}

export type Lookup =
  | { kind: 'route'; compiled: CompiledRoute; params: Record<string, string> }
  | { kind: 'public'; handler: PublicRoute['handler'] }
  | { kind: 'method'; allow: string[] }
  | { kind: 'none' };

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

function isMethod(value: string): value is Method {
  return (METHODS as readonly string[]).includes(value);
}

function compile(route: AdminRoute): CompiledRoute {
  return {
    route,
    body: route.body === undefined ? undefined : compileValidator(route.body),
    query: route.query === undefined ? undefined : compileValidator(route.query),
    action: route.action ?? `${route.method} ${route.path}`,
    audit: route.audit ?? route.method !== 'GET',
  };
}

/** Method + path dispatch, rebuilt as a whole on setRoutes so a request never sees a half-built table. */
export class RouteTable {
  private readonly router = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
  private readonly publics = new Map<string, PublicRoute['handler']>();

  constructor(routes: readonly AdminRoute[], publicRoutes: readonly PublicRoute[] = []) {
    for (const route of routes) this.router.on(route.method, route.path, () => undefined, compile(route));
    for (const route of publicRoutes) this.publics.set(route.path, route.handler);
  }

  lookup(method: string, path: string): Lookup {
    // HEAD is served by the GET route (Node drops the body).
    const effective = method === 'HEAD' ? 'GET' : method;
    if (effective === 'GET') {
      const handler = this.publics.get(path);
      if (handler !== undefined) return { kind: 'public', handler };
    }
    if (isMethod(effective)) {
      const found = this.router.find(effective, path);
      if (found !== null) {
        return { kind: 'route', compiled: found.store as CompiledRoute, params: found.params as Record<string, string> };
      }
    }
    const allow = this.allowed(path);
    return allow.length > 0 ? { kind: 'method', allow } : { kind: 'none' };
  }

  /** Methods served at `path`, for 405's Allow header (error path only). */
  private allowed(path: string): string[] {
    const allow: string[] = METHODS.filter((m) => this.router.find(m, path) !== null);
    if (this.publics.has(path) && !allow.includes('GET')) allow.unshift('GET');
    if (allow.includes('GET')) allow.splice(allow.indexOf('GET') + 1, 0, 'HEAD');
    return allow;
  }
}
