import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Static, TSchema } from '@sinclair/typebox';

/** Admin roles, each including the ones before it: viewer (read) < operator (reload, overrides, purge) < admin (config writes, users). */
export type AdminRole = 'viewer' | 'operator' | 'admin';

export interface AdminPrincipal {
  /** Token name or JWT subject; 'anonymous' when the admin API runs without auth on loopback. */
  name: string;
  role: AdminRole;
  via: 'token' | 'jwt' | 'anonymous';
}

export interface AdminRequestContext<B = unknown> {
  req: IncomingMessage;
  res: ServerResponse;
  principal: AdminPrincipal;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body, validated against the route's `body` schema when it has one. */
  body: B;
  clientIp: string;
  requestId: string;
}

export interface AdminReply {
  status?: number;
  headers?: Record<string, string>;
  /** JSON-serialized unless it is a string or Buffer (then sent as is with `contentType`). */
  body?: unknown;
  contentType?: string;
}

/** One admin endpoint: its contract (for validation, RBAC and the OpenAPI document) and handler. */
export interface AdminRoute<B extends TSchema = TSchema> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** find-my-way syntax, e.g. /admin/routes/:name */
  path: string;
  /** Lowest role allowed. */
  role: AdminRole;
  /** Served without authentication (still rate limited); only for content that reveals nothing, e.g. the docs page shell. */
  public?: boolean;
  summary: string;
  description?: string;
  tags?: string[];
  body?: B;
  /** Query parameters (a TypeBox object), validated; values arrive as strings. */
  query?: TSchema;
  /** Success response schema (documentation). */
  response?: TSchema;
  /** Audit this call (default: every method but GET). */
  audit?: boolean;
  /** Name of the action in the audit log (default: `${method} ${path}`). */
  action?: string;
  handler(ctx: AdminRequestContext<Static<B>>): AdminReply | Promise<AdminReply>;
}

/** One audit record: who did what, when, from where, and how it ended. */
export interface AuditEntry {
  id: number;
  time: string;
  actor: string;
  role: AdminRole | 'none';
  action: string;
  method: string;
  path: string;
  clientIp: string;
  requestId: string;
  status: number;
  outcome: 'success' | 'failure' | 'denied';
  detail?: string;
}

/** Where the admin server sends audit records (the control plane keeps, persists and serves them). */
export interface AuditSink {
  record(entry: Omit<AuditEntry, 'id'>): void;
}

export function defineAdminRoute<B extends TSchema>(route: AdminRoute<B>): AdminRoute<B> {
  return route;
}
