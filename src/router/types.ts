import type { RouteConfig } from '../config/schema/index.ts';

/** A route as the router sees it: its config and the value handed back on a match. */
export interface RouteEntry<V> {
  config: RouteConfig;
  /** Declaration order, the last tie-break. */
  index: number;
  value: V;
}

export interface RouteRequest {
  method: string;
  /** Host without port, lower-cased; '' when absent. */
  host: string;
  /** Normalized path, no query. */
  path: string;
  /** Raw query string without '?'. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
}

export type RouteResult<V> =
  | { kind: 'match'; value: V; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

export interface RouteTable<V> {
  match(request: RouteRequest): RouteResult<V>;
  readonly size: number;
}

/** Builds the upstream path from the matched (normalized) path and its params. Compiled once per route. */
export type PathRewriter = (path: string, params: Record<string, string>) => string;
