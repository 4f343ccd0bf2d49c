import { Type } from '@sinclair/typebox';
import { LOG_MODULES } from '../../config/schema/observability.ts';
import type { ControlPlane } from '../control-plane.ts';
import { healthIndicators } from '../summary-health.ts';
import { defineAdminRoute, type AdminRoute } from '../http/types.ts';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function runtimeAdminRoutes(plane: ControlPlane): AdminRoute[] {
  return [
    defineAdminRoute({
      method: 'GET',
      path: '/admin/snapshot',
      role: 'viewer',
      summary: 'The running snapshot: version, routes compiled per listener, requests in flight',
      tags: ['routes'],
      handler() {
        const snapshot = plane.current();
        const listeners = Object.fromEntries([...snapshot.routeTables].map(([name, table]) => [name, table.size]));
        return { body: { version: snapshot.version, listeners, inflight: snapshot.inflight } };
      },
    }),
    defineAdminRoute({
      method: 'GET',
      path: '/admin/connections',
      role: 'viewer',
      summary: 'Client connections and open WebSocket tunnels (total and per route) per listener; upstream connections per target',
      tags: ['runtime'],
      async handler() {
        const [listeners, load] = await Promise.all([plane.data.connections(), plane.data.targetLoad()]);
        const upstreams = [...plane.current().upstreams.values()].map((u) => ({
          upstream: u.name,
          targets: u.targets.map((t) => {
            const l = load.get(`${u.name} ${t.id}`);
            return { url: t.id, requestsInFlight: l?.inflight ?? 0, pool: l?.pool ?? null };
          }),
        }));
        return { body: { listeners, upstreams } };
      },
    }),
    defineAdminRoute({
      method: 'GET',
      path: '/admin/metrics/summary',
      role: 'viewer',
      summary: 'Request rate, error rate and p50/p95/p99 latency per route and upstream over 1 and 5 minutes, top routes by traffic and errors, health per upstream',
      tags: ['runtime'],
      async handler() {
        const [summary, load] = await Promise.all([plane.data.summary(), plane.data.targetLoad()]);
        const upstreams = [...plane.current().upstreams.values()].map((u) => ({
          name: u.name,
          targets: u.targets.map((t) => ({ url: t.id, available: t.available, inflight: load.get(`${u.name} ${t.id}`)?.inflight ?? 0 })),
        }));
        return { body: { ...summary, health: healthIndicators(summary, upstreams) } };
      },
    }),
    defineAdminRoute({
      method: 'GET',
      path: '/admin/workers',
      role: 'viewer',
      summary: 'Processes serving traffic: pid, status and config version of each (one entry in single-process mode)',
      tags: ['runtime'],
      handler: () => ({ body: { configVersion: plane.manager.version, workers: plane.data.workers() } }),
    }),
    defineAdminRoute({
      method: 'GET',
      path: '/admin/audit',
      role: 'viewer',
      summary: 'Audit log of admin actions, newest first',
      tags: ['runtime'],
      query: Type.Object({
        actor: Type.Optional(Type.String()),
        action: Type.Optional(Type.String()),
        outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
        since: Type.Optional(Type.String()),
        limit: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
      }),
      handler(ctx) {
        const q = ctx.query;
        const entries = plane.audit.query({
          ...(q.has('actor') ? { actor: q.get('actor')! } : {}),
          ...(q.has('action') ? { action: q.get('action')! } : {}),
          ...(q.has('outcome') ? { outcome: q.get('outcome') as 'success' } : {}),
          ...(q.has('since') ? { since: q.get('since')! } : {}),
          ...(q.has('limit') ? { limit: Number(q.get('limit')) } : {}),
        });
        return { body: { entries } };
      },
    }),
    defineAdminRoute({
      method: 'GET',
      path: '/admin/log-level',
      role: 'viewer',
      summary: 'Log levels in force: the root level and each module\'s',
      tags: ['runtime'],
      handler: () => ({ body: plane.logLevels() }),
    }),
    defineAdminRoute({
      method: 'PUT',
      path: '/admin/log-level',
      role: 'operator',
      summary: 'Change the root log level, or one module\'s, at runtime (in every worker; until a config changes the levels, or a restart)',
      tags: ['runtime'],
      body: Type.Object(
        {
          level: Type.Union(LEVELS.map((l) => Type.Literal(l))),
          module: Type.Optional(Type.Union(LOG_MODULES.map((m) => Type.Literal(m)))),
        },
        { additionalProperties: false },
      ),
      action: 'log.level',
      async handler(ctx) {
        await plane.setLogLevel(ctx.body.level, ctx.body.module);
        return { body: plane.logLevels() };
      },
    }),
  ];
}
