import { PluginMetricsRegistry } from '../observability/plugin-metrics.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RequestContext, UpstreamRequest, UpstreamResponse } from '../runtime/context.ts';
import { HeaderList } from '../runtime/headers.ts';
import type { PluginDefinition, PluginEnv, PluginInstance } from './types.ts';
import { validatePluginConfig } from './validate.ts';

/**
 * A RequestContext for unit tests of plugins: plugins only see the context interface, so a plain
 * object with sensible defaults is enough. `req`/`res` are empty stand-ins.
 */
export function fakeContext(overrides: Partial<RequestContext> = {}): RequestContext {
  return {
    id: 'gw-generated-id',
    startedAt: Date.now(),
    startMono: performance.now(),
    listener: 'public',
    scheme: 'http',
    clientIp: '192.0.2.10',
    clientPort: 51234,
    method: 'GET',
    host: 'api.example.com',
    path: '/users/42',
    query: '',
    headers: {},
    req: {} as IncomingMessage,
    res: {} as ServerResponse,
    route: { name: 'users', upstream: 'users-svc' },
    params: {},
    target: undefined,
    status: 0,
    bytesSent: 0,
    bytesReceived: 0,
    upstreamMs: -1,
    attempts: 0,
    traceId: '',
    span: undefined,
    error: undefined,
    responseHeaders: [],
    state: {},
    ...overrides,
  };
}

export function fakeUpstreamRequest(headers: string[] = [], path = '/users/42'): UpstreamRequest {
  return { method: 'GET', path, headers: new HeaderList(headers) };
}

export function fakeUpstreamResponse(headers: string[] = [], status = 200): UpstreamResponse {
  return { status, headers: new HeaderList(headers) };
}

export interface LogRecord {
  level: string;
  obj: unknown;
  msg: string | undefined;
}

/** A Logger stand-in that records calls; only the methods plugins use are meaningful. */
export function recordingLogger(records: LogRecord[] = []): Logger & { records: LogRecord[] } {
  const log = (level: string) => (obj: unknown, msg?: string) => {
    records.push({ level, obj, msg });
  };
  const logger = {
    records,
    level: 'info',
    fatal: log('fatal'),
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    trace: log('trace'),
    silent: () => {},
    child: () => logger,
  };
  return logger as unknown as Logger & { records: LogRecord[] };
}

export function fakeEnv(overrides: Partial<PluginEnv> = {}): PluginEnv {
  return { scope: 'route', route: 'users', logger: recordingLogger(), metrics: new PluginMetricsRegistry().forPlugin('test'), ...overrides };
}

/** Validate `config` (defaults applied) as the chain compiler does, then create the instance. */
export async function createInstance(definition: PluginDefinition, config: unknown = {}, env = fakeEnv()): Promise<PluginInstance> {
  const { value, issues } = validatePluginConfig(definition, config, definition.name);
  if (issues.length > 0) throw new Error(issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return definition.create(value as never, env);
}
