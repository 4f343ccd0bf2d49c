/** Shared builders for the router's unit tests (not used at runtime). */
import type { RouteConfig, RouteMatchConfig } from '../config/schema/index.ts';
import { compileRouteTable, type RouteTableOptions } from './route-table.ts';
import type { RouteRequest, RouteResult, RouteTable } from './types.ts';

export type RouteSpec = Partial<RouteMatchConfig> & { name: string; priority?: number };

export function routeConfig(spec: RouteSpec): RouteConfig {
  const { name, priority, ...match } = spec;
  return { name, match: { paths: ['/'], ...match }, ...(priority === undefined ? {} : { priority }) };
}

export function table(specs: RouteSpec[], options?: RouteTableOptions): RouteTable<string> {
  return compileRouteTable(
    specs.map((spec, index) => ({ config: routeConfig(spec), index, value: spec.name })),
    options,
  );
}

export function request(path: string, init: Partial<Omit<RouteRequest, 'path'>> = {}): RouteRequest {
  return { method: 'GET', host: '', query: '', headers: {}, ...init, path };
}

/** The matched route name, or '404' / '405 GET,HEAD' for the other outcomes. */
export function outcome(result: RouteResult<string>): string {
  if (result.kind === 'match') return result.value;
  if (result.kind === 'not-found') return '404';
  return `405 ${result.allow.join(',')}`;
}

export function params(result: RouteResult<string>): Record<string, string> | undefined {
  return result.kind === 'match' ? result.params : undefined; // deepStrictEqual also checks it is a plain object
}

export const MODES: RouteTableOptions[] = [{ compile: false }, { compile: true }];
