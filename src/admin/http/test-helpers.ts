import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { AdminAuthConfig } from './auth.ts';
import { AdminHttpServer, type AdminServerOptions } from './server.ts';
import type { AdminRoute, AuditEntry } from './types.ts';

export interface TestAdmin {
  admin: AdminHttpServer;
  base: string;
  address: AddressInfo;
  audit: Array<Omit<AuditEntry, 'id'>>;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A pino logger whose lines land in `logs` (to assert on warnings and on what is never logged). */
export function captureLogger(logs: Array<Record<string, unknown>>): Logger {
  return pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
}

/** A real AdminHttpServer on 127.0.0.1, port 0. */
export async function startAdmin(routes: AdminRoute[], auth: AdminAuthConfig, extra: Partial<AdminServerOptions> = {}): Promise<TestAdmin> {
  const audit: TestAdmin['audit'] = [];
  const logs: TestAdmin['logs'] = [];
  const admin = new AdminHttpServer({
    routes,
    auth,
    rateLimitPerMinute: 1000,
    audit: { record: (entry) => void audit.push(entry) },
    logger: captureLogger(logs),
    ...extra,
  });
  const address = await admin.listen(0, '127.0.0.1');
  return { admin, base: `http://127.0.0.1:${address.port}`, address, audit, logs, close: () => admin.close() };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export async function jsonOf(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}
