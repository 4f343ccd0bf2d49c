import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { GatewayError, type ErrorCode } from '../../errors/index.ts';
import type { AdminAuthenticator } from './auth.ts';
import { roleAllows } from './auth.ts';
import { queryObject, readJsonBody, type ValidationIssue, type Validator } from './body.ts';
import type { RateLimiter } from './rate-limit.ts';
import { applyBaseHeaders, requestIdOf, sendProblem, sendReply } from './reply.ts';
import type { CompiledRoute, Lookup, PublicRoute, RouteTable } from './routes.ts';
import type { AdminPrincipal, AuditEntry, AuditSink } from './types.ts';

/** What one request runs against; swapped as a whole by setRoutes/setAuth. */
export interface PipelineState {
  table: RouteTable;
  auth: AdminAuthenticator;
  limiter: RateLimiter;
  audit: AuditSink;
  logger: Logger;
  bodyLimit: number;
}

/** A 400 that carries every validation error with its path. */
class ValidationFailure extends GatewayError {
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[], detail: string) {
    super('SLUICE_ERR_ADMIN_VALIDATION', { detail });
    this.issues = issues;
  }
}

/** Per-request facts the audit record and error replies need. */
interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  method: string;
  path: string;
  query: URLSearchParams;
  clientIp: string;
  compiled?: CompiledRoute;
  principal?: AdminPrincipal;
  /** Known caller that was still denied (a JWT subject without a role). */
  actor?: string;
  /** A repeated 429 in the same minute: not audited again, so a flood cannot wash out the audit log. */
  quiet?: boolean;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const DETAIL_MAX = 200;

function deny(code: ErrorCode, detail: string, headers?: Record<string, string>): GatewayError {
  return new GatewayError(code, headers === undefined ? { detail } : { detail, headers });
}

async function authenticate(state: PipelineState, call: Call): Promise<void> {
  const header = call.req.headers.authorization;
  const result = await state.auth.authenticate(header);
  if (result.ok) {
    call.principal = result.principal;
    return;
  }
  if (result.actor !== undefined) call.actor = result.actor;
  if (result.status === 403) throw deny('SLUICE_ERR_ADMIN_FORBIDDEN', result.detail);
  // RFC 6750 §3: say the token was bad only when one was sent.
  const challenge = header === undefined ? 'Bearer realm="sluice-admin"' : 'Bearer realm="sluice-admin", error="invalid_token"';
  throw deny('SLUICE_ERR_ADMIN_UNAUTHORIZED', result.detail, { 'www-authenticate': challenge });
}

function validate(validator: Validator | undefined, value: unknown, where: 'body' | 'query'): void {
  if (validator === undefined) return;
  const issues = validator(value);
  if (issues.length === 0) return;
  if (where === 'query') throw new ValidationFailure(issues.map((i) => ({ ...i, in: 'query' as const })), 'invalid query parameters');
  if (value === undefined) throw new ValidationFailure([{ path: '', message: 'Expected a JSON body' }], 'request body required');
  throw new ValidationFailure(issues, 'invalid request body');
}

/** Everything between the request id and the handler's reply, in the documented order. */
async function run(state: PipelineState, call: Call, found: Lookup): Promise<{ status: number; detail?: string }> {
  const verdict = state.limiter.take(call.clientIp);
  if (!verdict.allowed) {
    call.quiet = !verdict.firstDenial;
    throw deny('SLUICE_ERR_ADMIN_RATE_LIMITED', 'too many admin requests', { 'retry-after': String(verdict.retryAfterSeconds) });
  }
  const isPublic = found.kind === 'route' && found.compiled.route.public === true;
  // Authenticate before revealing whether a path exists (unauthenticated callers learn nothing).
  if (!isPublic) await authenticate(state, call);
  if (found.kind === 'method') throw deny('SLUICE_ERR_METHOD_NOT_ALLOWED', `${call.method} not allowed here`, { allow: found.allow.join(', ') });
  if (found.kind !== 'route') throw deny('SLUICE_ERR_ADMIN_NOT_FOUND', 'no such admin endpoint');
  const { compiled, params } = found;
  call.compiled = compiled;
  const { route } = compiled;
  if (!isPublic && !roleAllows(call.principal!.role, route.role)) throw deny('SLUICE_ERR_ADMIN_FORBIDDEN', `requires role ${route.role}`);
  const body = compiled.body !== undefined || BODY_METHODS.has(call.method) ? await readJsonBody(call.req, state.bodyLimit) : undefined;
  validate(compiled.body, body, 'body');
  validate(compiled.query, queryObject(call.query), 'query');
  const principal = call.principal ?? { name: 'anonymous', role: 'viewer', via: 'anonymous' };
  const { req, res, query, clientIp, requestId } = call;
  const reply = await route.handler({ req, res, principal, params, query, body, clientIp, requestId });
  const status = sendReply(res, reply);
  // A handler-built problem (e.g. config rejected): its detail, already sent to the client, goes to the audit too.
  const detail = status >= 400 ? (reply.body as { detail?: unknown } | null | undefined)?.detail : undefined;
  return typeof detail === 'string' ? { status, detail } : { status };
}

function fail(state: PipelineState, call: Call, error: unknown): { status: number; detail?: string } {
  if (error instanceof ValidationFailure) {
    return { status: sendProblem(call.res, error, call.path, call.requestId, { errors: error.issues }), detail: error.detail };
  }
  const gatewayError = error instanceof GatewayError ? error : new GatewayError('SLUICE_ERR_INTERNAL', { cause: error, expose: false });
  if (gatewayError.status >= 500) {
    // Logged with method and path only: never headers (Authorization) or bodies (may hold secrets).
    state.logger.error({ err: gatewayError.cause ?? gatewayError, requestId: call.requestId, method: call.method, path: call.path }, 'admin request failed');
  }
  const status = sendProblem(call.res, gatewayError, call.path, call.requestId);
  return gatewayError.expose && gatewayError.detail !== undefined ? { status, detail: gatewayError.detail } : { status };
}

function outcomeOf(status: number): AuditEntry['outcome'] {
  if (status === 401 || status === 403 || status === 429) return 'denied';
  return status >= 400 ? 'failure' : 'success';
}

function audit(state: PipelineState, call: Call, status: number, detail: string | undefined): void {
  const outcome = outcomeOf(status);
  const wanted = outcome === 'denied' ? !call.quiet : (call.compiled?.audit ?? (call.method !== 'GET' && call.method !== 'HEAD'));
  if (!wanted) return;
  const entry: Omit<AuditEntry, 'id'> = {
    time: new Date().toISOString(),
    actor: call.principal?.name ?? call.actor ?? 'unknown',
    role: call.principal?.role ?? 'none',
    action: call.compiled?.action ?? `${call.method} ${call.path}`,
    method: call.method,
    path: call.path,
    clientIp: call.clientIp,
    requestId: call.requestId,
    status,
    outcome,
  };
  if (detail !== undefined) entry.detail = detail.length > DETAIL_MAX ? `${detail.slice(0, DETAIL_MAX - 1)}…` : detail;
  try {
    state.audit.record(entry);
  } catch (error) {
    state.logger.error({ err: error, requestId: call.requestId }, 'admin audit record failed');
  }
}

function servePublic(state: PipelineState, handler: PublicRoute['handler'], req: IncomingMessage, res: ServerResponse, requestId: string): void {
  try {
    handler(req, res);
  } catch (error) {
    state.logger.error({ err: error, requestId, path: req.url }, 'admin public endpoint failed');
    sendProblem(res, new GatewayError('SLUICE_ERR_INTERNAL', { expose: false }), req.url ?? '/', requestId);
  }
}

/** One admin request, start to finish; never rejects. */
export async function handleAdminRequest(state: PipelineState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = requestIdOf(req);
  applyBaseHeaders(res, requestId);
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const method = req.method ?? 'GET';
  const found = state.table.lookup(method, path);
  // Probes and metrics: no rate limit (kubelet and Prometheus share addresses), no auth, no audit.
  if (found.kind === 'public') return servePublic(state, found.handler, req, res, requestId);
  const query = new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1));
  const call: Call = { req, res, requestId, method, path, query, clientIp: req.socket.remoteAddress ?? 'unknown' };
  let status: number;
  let detail: string | undefined;
  try {
    ({ status, detail } = await run(state, call, found));
  } catch (error) {
    ({ status, detail } = fail(state, call, error));
  }
  audit(state, call, status, detail);
}
