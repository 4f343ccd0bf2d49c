export type { PathRewriter, RouteEntry, RouteRequest, RouteResult, RouteTable } from './types.ts';
export { compileRouteTable, type RouteTableOptions } from './route-table.ts';
export { normalizePath, type NormalizedTarget } from './normalize.ts';
export { compileRewrite } from './rewrite.ts';
export { validateRouteConfig, type RouteIssue } from './validate-route.ts';
