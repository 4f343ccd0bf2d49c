import type { TSchema } from '@sinclair/typebox';
import type { AdminRoute } from './types.ts';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

type Json = Record<string, unknown>;

const PROBLEM_SCHEMA: Json = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'code', 'instance', 'requestId'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', description: 'Stable error code, e.g. SLUICE_ERR_ADMIN_FORBIDDEN' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      description: 'Validation errors (400 only)',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string', description: 'JSON Pointer into the body (or the query when `in` is "query")' }, message: { type: 'string' }, in: { const: 'query' } },
      },
    },
  },
};

/** Problem responses shared by every operation, referenced from components.responses. */
const PROBLEMS: Record<string, string> = {
  '400': 'Invalid request (every error with its path)',
  '401': 'Missing or invalid bearer token',
  '403': 'Role too low',
  '404': 'Not found',
  '409': 'Conflict with the current state',
  '413': 'Body too large',
  '415': 'Body is not application/json',
  '429': 'Too many requests (see Retry-After)',
  '500': 'Internal error (no detail exposed)',
};
const AUTH_STATUSES = ['400', '401', '403', '404', '409', '429', '500'];
const BODY_STATUSES = ['413', '415'];

/** find-my-way `/a/:name` (optionally `:name(regex)`, `*`, `::` for a literal colon) → `/a/{name}` and its parameters. */
export function toOpenApiPath(path: string): { path: string; params: Array<{ name: string; pattern?: string }> } {
  const params: Array<{ name: string; pattern?: string }> = [];
  const converted = path
    .replaceAll('::', '\u0000')
    .replace(/:([A-Za-z0-9_]+)(?:\(([^)]*)\))?/g, (_m, name: string, pattern: string | undefined) => {
      params.push(pattern === undefined ? { name } : { name, pattern });
      return `{${name}}`;
    })
    .replace(/\*$/, () => {
      params.push({ name: 'wildcard' });
      return '{wildcard}';
    })
    .replaceAll('\u0000', ':');
  return { path: converted, params };
}

function componentName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** TypeBox schema → plain JSON Schema; sub-schemas with an $id move to components.schemas, referenced by $ref. */
class SchemaCollector {
  readonly schemas: Record<string, unknown> = {};

  convert(schema: TSchema): unknown {
    // The JSON round trip drops TypeBox's symbol keys (Kind, Optional), leaving standard JSON Schema.
    return this.walk(JSON.parse(JSON.stringify(schema)) as unknown);
  }

  private walk(node: unknown): unknown {
    if (Array.isArray(node)) return node.map((item) => this.walk(item));
    if (node === null || typeof node !== 'object') return node;
    const out: Json = {};
    for (const [key, value] of Object.entries(node as Json)) {
      if (key === '$id') continue;
      // A bare TypeBox Type.Ref points at an $id, which now lives under components.
      if (key === '$ref' && typeof value === 'string' && !value.startsWith('#')) out[key] = `#/components/schemas/${componentName(value)}`;
      else out[key] = this.walk(value);
    }
    const id = (node as Json).$id;
    if (typeof id !== 'string') return out;
    this.schemas[componentName(id)] = out;
    return { $ref: `#/components/schemas/${componentName(id)}` };
  }
}

function operationId(route: AdminRoute, seen: Set<string>): string {
  const words = route.path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const base = route.method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  let id = base;
  for (let n = 2; seen.has(id); n++) id = `${base}${n}`;
  seen.add(id);
  return id;
}

function queryParameters(query: TSchema | undefined, schemas: SchemaCollector): Json[] {
  if (query === undefined) return [];
  const converted = schemas.convert(query) as Json;
  const properties = (converted.properties ?? {}) as Record<string, Json>;
  const required = new Set(Array.isArray(converted.required) ? (converted.required as string[]) : []);
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema,
    ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
  }));
}

function responses(route: AdminRoute, schemas: SchemaCollector): Json {
  const success: Json = { description: 'Success' };
  if (route.response !== undefined) success.content = { 'application/json': { schema: schemas.convert(route.response) } };
  const out: Json = { '200': success };
  const statuses = route.public === true ? ['429', '500'] : [...AUTH_STATUSES];
  if (route.body !== undefined || ['POST', 'PUT', 'PATCH'].includes(route.method)) statuses.push(...BODY_STATUSES);
  for (const status of statuses.sort()) out[status] = { $ref: `#/components/responses/Problem${status}` };
  return out;
}

function operation(route: AdminRoute, schemas: SchemaCollector, ids: Set<string>): { path: string; op: Json } {
  const { path, params } = toOpenApiPath(route.path);
  const parameters = [
    ...params.map(({ name, pattern }) => ({ name, in: 'path', required: true, schema: pattern === undefined ? { type: 'string' } : { type: 'string', pattern } })),
    ...queryParameters(route.query, schemas),
  ];
  const op: Json = { operationId: operationId(route, ids), summary: route.summary };
  if (route.public !== true) op['x-required-role'] = route.role;
  if (route.description !== undefined) op.description = route.description;
  if (route.tags !== undefined) op.tags = route.tags;
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body !== undefined) op.requestBody = { required: true, content: { 'application/json': { schema: schemas.convert(route.body) } } };
  op.responses = responses(route, schemas);
  if (route.public === true) op.security = [];
  return { path, op };
}

/** The OpenAPI 3.1 document for a set of admin routes (built once per setRoutes, not per request). */
export function buildOpenApi(routes: readonly AdminRoute[], info: OpenApiInfo): Json {
  const schemas = new SchemaCollector();
  const ids = new Set<string>();
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const { path, op } = operation(route, schemas, ids);
    (paths[path] ??= {})[route.method.toLowerCase()] = op;
  }
  const problemResponses: Json = {};
  for (const [status, description] of Object.entries(PROBLEMS)) {
    problemResponses[`Problem${status}`] = { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Problem: PROBLEM_SCHEMA, ...schemas.schemas },
      responses: problemResponses,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'A static admin token or a JWT (`admin.tokens`, `admin.jwt`); roles viewer < operator < admin' },
      },
    },
    security: [{ bearerAuth: [] }],
  };
}
