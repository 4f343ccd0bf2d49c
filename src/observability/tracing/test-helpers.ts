// Shared by this module's tests: a config with fast export, and a logger whose lines are kept.
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { resolveTracingConfig, type ResolvedTracingConfig } from './config.ts';
import type { TracingConfig } from '../../config/schema/observability.ts';
import type { ServerSpanInput } from './types.ts';

export function testConfig(overrides: TracingConfig = {}, headers: Record<string, string> = {}): ResolvedTracingConfig {
  return resolveTracingConfig({ enabled: true, endpoint: 'http://127.0.0.1:9/v1/traces', scheduledDelay: '50ms', exportTimeout: '1s', ...overrides }, headers);
}

export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export function serverInput(overrides: Partial<ServerSpanInput> = {}): ServerSpanInput {
  return {
    method: 'GET',
    scheme: 'http',
    host: 'api.example.com:8080',
    path: '/users/42',
    query: '',
    headers: { 'user-agent': 'test-agent/1.0' },
    clientIp: '127.0.0.1',
    clientPort: 50000,
    listenerPort: 8080,
    startTime: performance.timeOrigin + performance.now(),
    ...overrides,
  };
}

/** [name, value, ...] → { name: value }. */
export function headerMap(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
