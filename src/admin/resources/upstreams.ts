import { Type } from '@sinclair/typebox';
import type { Upstream } from '../../upstream/upstream.ts';
import type { ControlPlane, TargetLoad } from '../control-plane.ts';
import { defineAdminRoute, type AdminRoute } from '../http/types.ts';
import { conflict, notFound, problem } from './common.ts';
import { circuitKey, circuitView, limitsView, type ClusterResilience } from '../../cluster/circuits.ts';

/**
 * An upstream with its targets' runtime state; `load` is the whole instance's (every worker).
 * Breakers and limits: this process's own, or (multi-process, `cluster`) merged over the workers.
 */
function upstreamView(plane: ControlPlane, upstream: Upstream, load: Map<string, TargetLoad>, cluster: ClusterResilience | undefined) {
  const circuit = (target?: string) =>
    cluster === undefined
      ? circuitView(target === undefined ? upstream.resilience?.breaker : upstream.resilience?.targets.get(target)?.breaker)
      : (cluster.circuits.get(circuitKey(upstream.name, target)) ?? null);
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
        circuit: circuit(t.id),
      };
    }),
    circuit: circuit(),
    limits: cluster === undefined ? limitsView(upstream) : (cluster.limits.get(upstream.name) ?? null),
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
  const [load, cluster] = await Promise.all([plane.data.targetLoad(), plane.data.resilience?.()]);
  return upstreamView(plane, upstream, load, cluster);
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
        const [load, cluster] = await Promise.all([plane.data.targetLoad(), plane.data.resilience?.()]);
        return { body: { upstreams: [...plane.current().upstreams.values()].map((u) => upstreamView(plane, u, load, cluster)) } };
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
        const target = ctx.body.target === undefined ? undefined : new URL(ctx.body.target).href;
        const state = ctx.body.state === 'auto' ? undefined : ctx.body.state;
        if (plane.data.forceCircuit !== undefined) {
          // Multi-process: the workers own the breakers; the config in force says which exist.
          const config = plane.current().config.upstreams?.find((u) => u.name === upstream.name)?.circuitBreaker;
          if (config === undefined) conflict(`upstream "${upstream.name}" has no circuit breaker configured`);
          if (target !== undefined && (config.perTarget === false || !upstream.targets.some((t) => t.id === target))) notFound(`target breaker ${target} of upstream "${upstream.name}"`);
          await plane.data.forceCircuit(upstream.name, target, ctx.body.state);
          return { body: await viewOf(plane, upstream) };
        }
        const guard = upstream.resilience;
        if (guard?.breaker === undefined) conflict(`upstream "${upstream.name}" has no circuit breaker configured`);
        if (target !== undefined && !guard.targets.has(target)) notFound(`target breaker ${target} of upstream "${upstream.name}"`);
        guard.force(state, target);
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
