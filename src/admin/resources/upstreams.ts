import { Type } from '@sinclair/typebox';
import type { Upstream } from '../../upstream/upstream.ts';
import type { ControlPlane, TargetLoad } from '../control-plane.ts';
import { defineAdminRoute, type AdminRoute } from '../http/types.ts';
import { conflict, notFound, problem } from './common.ts';
import type { CircuitBreaker } from '../../upstream/resilience/circuit-breaker.ts';

/** A breaker as the admin API shows it (this process's view; each worker keeps its own). */
function circuitView(b: CircuitBreaker | undefined) {
  if (b === undefined) return null;
  return { state: b.state, forced: b.forced ?? null, retryAfterMs: Math.ceil(b.retryAfterMs()), window: b.window() };
}


/** An upstream with its targets' runtime state; `load` is the whole instance's (every worker). */
function upstreamView(plane: ControlPlane, upstream: Upstream, load: Map<string, TargetLoad>) {
  return {
    name: upstream.name,
    targets: upstream.targets.map((t) => {
      const l = load.get(`${upstream.name} ${t.id}`);
      return {
        url: t.id,
        weight: t.weight,
        available: t.available,
        inflight: l?.inflight ?? 0,
        healthOverride: plane.overlay.health(upstream.name, t.id) ?? null,
        health: healthView(plane, upstream.name, t.id, l?.ejected ?? 0),
        registered: plane.overlay.isRegistered(upstream.name, t.id),
        pool: l?.pool ?? null,
        circuit: circuitView(upstream.resilience?.targets.get(t.id)?.breaker),
      };
    }),
    circuit: circuitView(upstream.resilience?.breaker),
    limits:
      upstream.resilience?.limiter === undefined ? null : { inflight: upstream.resilience.limiter.inflight, queued: upstream.resilience.limiter.queued, ...upstream.resilience.limiter.settings },
  };
}

/**
 * Why the target is (not) routable: reason override/active/outlier/breaker/panic (null = healthy).
 * Outlier ejection is per serving process: `ejectedIn` counts the processes ejecting it now.
 */
function healthView(plane: ControlPlane, upstream: string, url: string, ejectedIn: number) {
  const view = plane.health.view(upstream, url);
  if (view === null) return null;
  const reason = view.reason === null && ejectedIn > 0 ? 'outlier' : view.reason;
  return { ...view, reason, ejectedIn };
}

async function viewOf(plane: ControlPlane, upstream: Upstream) {
  return upstreamView(plane, upstream, await plane.data.targetLoad());
}

function findUpstream(plane: ControlPlane, name: string): Upstream {
  const upstream = plane.current().upstreams.get(name);
  if (upstream === undefined) notFound(`upstream "${name}"`);
  return upstream;
}

const TargetBody = Type.Object(
  { url: Type.String({ pattern: '^https?://' }), weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })) },
  { additionalProperties: false },
);

export function upstreamAdminRoutes(plane: ControlPlane): AdminRoute[] {
  return [
    defineAdminRoute({
      method: 'GET',
      path: '/admin/upstreams',
      role: 'viewer',
      summary: 'Upstreams with their targets: availability, in-flight requests, health overrides, pool stats',
      tags: ['upstreams'],
      async handler() {
        const load = await plane.data.targetLoad();
        return { body: { upstreams: [...plane.current().upstreams.values()].map((u) => upstreamView(plane, u, load)) } };
      },
    }),
    defineAdminRoute({
      method: 'GET',
      path: '/admin/upstreams/:name',
      role: 'viewer',
      summary: 'One upstream with its targets and runtime state',
      tags: ['upstreams'],
      handler: async (ctx) => ({ body: await viewOf(plane, findUpstream(plane, ctx.params.name!)) }),
    }),
    defineAdminRoute({
      method: 'POST',
      path: '/admin/upstreams/:name/targets',
      role: 'operator',
      summary: 'Register a target (persisted in the state directory; survives restarts and reloads)',
      tags: ['upstreams'],
      body: TargetBody,
      action: 'target.register',
      async handler(ctx) {
        findUpstream(plane, ctx.params.name!);
        const previous = plane.overlay.register(ctx.params.name!, ctx.body.url, ctx.body.weight);
        return overlayChanged(plane, ctx, previous, 201);
      },
    }),
    defineAdminRoute({
      method: 'DELETE',
      path: '/admin/upstreams/:name/targets',
      role: 'operator',
      summary: 'Deregister a target (?url=…); also removes a target that came from the config file',
      tags: ['upstreams'],
      query: Type.Object({ url: Type.String({ pattern: '^https?://' }) }),
      action: 'target.deregister',
      async handler(ctx) {
        const upstream = findUpstream(plane, ctx.params.name!);
        const url = new URL(ctx.query.get('url')!).href;
        if (!upstream.targets.some((t) => t.id === url)) notFound(`target ${url} of upstream "${upstream.name}"`);
        if (upstream.targets.length === 1) conflict(`target ${url} is the last target of upstream "${upstream.name}"`);
        return overlayChanged(plane, ctx, plane.overlay.deregister(upstream.name, url), 200);
      },
    }),
    defineAdminRoute({
      method: 'PUT',
      path: '/admin/upstreams/:name/targets/health',
      role: 'operator',
      summary: 'Override a target\'s health (persisted until cleared): up (always routable), down (never), drained (no new requests, in-flight ones finish), or auto (back to checks and outlier detection)',
      tags: ['upstreams'],
      body: Type.Object({ url: Type.String({ pattern: '^https?://' }), state: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('drained'), Type.Literal('auto')]) }, { additionalProperties: false }),
      action: 'target.health',
      async handler(ctx) {
        const upstream = findUpstream(plane, ctx.params.name!);
        const url = new URL(ctx.body.url).href;
        if (!upstream.targets.some((t) => t.id === url)) notFound(`target ${url} of upstream "${upstream.name}"`);
        await plane.setTargetHealth(upstream.name, url, ctx.body.state);
        return { body: await viewOf(plane, upstream) };
      },
    }),
    defineAdminRoute({
      method: 'PUT',
      path: '/admin/upstreams/:name/circuit',
      role: 'operator',
      summary: 'Force the upstream\'s circuit breaker (or one target\'s, with `target`) open or closed; auto returns it to automatic operation',
      tags: ['upstreams'],
      body: Type.Object(
        { state: Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('auto')]), target: Type.Optional(Type.String({ pattern: '^(https?|h2c)://' })) },
        { additionalProperties: false },
      ),
      action: 'upstream.circuit',
      async handler(ctx) {
        const upstream = findUpstream(plane, ctx.params.name!);
        const guard = upstream.resilience;
        if (guard?.breaker === undefined) conflict(`upstream "${upstream.name}" has no circuit breaker in this process (none configured, or multi-process mode where each worker keeps its own)`);
        const target = ctx.body.target === undefined ? undefined : new URL(ctx.body.target).href;
        if (target !== undefined && !guard.targets.has(target)) notFound(`target breaker ${target} of upstream "${upstream.name}"`);
        guard.force(ctx.body.state === 'auto' ? undefined : ctx.body.state, target);
        return { body: await viewOf(plane, upstream) };
      },
    }),
  ];
}

async function overlayChanged(plane: ControlPlane, ctx: Parameters<AdminRoute['handler']>[0], next: ReturnType<ControlPlane['overlay']['register']>, status: number) {
  const outcome = await plane.applyOverlay(ctx.principal.name, next);
  if (!outcome.ok) {
    return problem('SLUICE_ERR_CONFIG_INVALID', 'the target change was rejected; nothing changed', ctx.requestId, ctx.req.url ?? '', outcome.errors);
  }
  return { status, body: { version: outcome.version, upstream: await viewOf(plane, findUpstream(plane, ctx.params.name!)) } };
}
