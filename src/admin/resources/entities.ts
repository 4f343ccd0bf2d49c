import { Type, type TSchema } from '@sinclair/typebox';
import { ConsumerSchema, RouteSchema, UpstreamSchema } from '../../config/schema/index.ts';
import type { ControlPlane } from '../control-plane.ts';
import { defineAdminRoute, type AdminRoute } from '../http/types.ts';
import { conflict, findNamed, namedList, notFound } from './common.ts';
import { applied } from './config.ts';

type Doc = Record<string, unknown>;
type Named = { name?: unknown };

interface EntityKind {
  /** Config key and URL segment: routes, upstreams, consumers. */
  key: 'routes' | 'upstreams' | 'consumers';
  singular: string;
  schema: TSchema;
  /** Reads are served elsewhere (with runtime state). */
  customReads?: boolean;
  /** Why this entity cannot be deleted (still referenced), or undefined. */
  blockedDelete?(document: Doc, name: string): string | undefined;
}

function routesUsing(document: Doc, upstream: string): string[] {
  const routes = (document.routes as Array<{ name?: string; upstream?: string; upstreams?: Array<{ name?: string }> }> | undefined) ?? [];
  return routes.filter((r) => r.upstream === upstream || r.upstreams?.some((u) => u.name === upstream)).map((r) => String(r.name));
}

const KINDS: EntityKind[] = [
  { key: 'routes', singular: 'route', schema: RouteSchema },
  {
    key: 'upstreams',
    singular: 'upstream',
    schema: UpstreamSchema,
    customReads: true,
    blockedDelete(document, name) {
      const users = routesUsing(document, name);
      return users.length === 0 ? undefined : `upstream "${name}" is used by route(s) ${users.map((r) => `"${r}"`).join(', ')}`;
    },
  },
  { key: 'consumers', singular: 'consumer', schema: ConsumerSchema },
];

function entityRoutes(plane: ControlPlane, kind: EntityKind): AdminRoute[] {
  const base = `/admin/${kind.key}`;
  const doc = () => (plane.manager.document ?? {}) as Doc;
  const reads: AdminRoute[] = [
    defineAdminRoute({
      method: 'GET',
      path: base,
      role: 'viewer',
      summary: `List ${kind.key} (secrets redacted)`,
      tags: [kind.key],
      handler: () => ({ body: { [kind.key]: ((plane.redact(doc()) as Doc)[kind.key] as unknown[] | undefined) ?? [] } }),
    }),
    defineAdminRoute({
      method: 'GET',
      path: `${base}/:name`,
      role: 'viewer',
      summary: `One ${kind.singular} (secrets redacted)`,
      tags: [kind.key],
      handler(ctx) {
        const found = findNamed((plane.redact(doc()) as Doc)[kind.key] as Named[] | undefined, ctx.params.name!);
        if (found === undefined) notFound(`${kind.singular} "${ctx.params.name}"`);
        return { body: found };
      },
    }),
  ];
  return [
    ...(kind.customReads ? [] : reads),
    defineAdminRoute({
      method: 'PUT',
      path: `${base}/:name`,
      role: 'admin',
      summary: `Create or replace a ${kind.singular} (validated with the whole config; a new version)`,
      tags: [kind.key],
      // The name comes from the path; a body may omit it.
      body: Type.Omit(kind.schema as never, ['name']),
      action: `${kind.singular}.put`,
      async handler(ctx) {
        const name = ctx.params.name!;
        const entity = { ...(ctx.body as Doc), name };
        let created = false;
        const outcome = await plane.manager.mutate((draft) => {
          const list = namedList(draft, kind.key);
          const index = list.findIndex((item) => item.name === name);
          created = index === -1;
          if (created) list.push(entity);
          else list[index] = entity;
        }, { source: 'api', actor: ctx.principal.name });
        return applied(outcome, ctx, created ? 201 : 200);
      },
    }),
    defineAdminRoute({
      method: 'DELETE',
      path: `${base}/:name`,
      role: 'admin',
      summary: `Delete a ${kind.singular} (409 while it is still referenced)`,
      tags: [kind.key],
      action: `${kind.singular}.delete`,
      async handler(ctx) {
        const name = ctx.params.name!;
        const current = doc();
        if (findNamed(current[kind.key] as Named[] | undefined, name) === undefined) notFound(`${kind.singular} "${name}"`);
        const blocked = kind.blockedDelete?.(current, name);
        if (blocked !== undefined) conflict(blocked);
        const outcome = await plane.manager.mutate((draft) => {
          draft[kind.key] = namedList(draft, kind.key).filter((item) => item.name !== name);
        }, { source: 'api', actor: ctx.principal.name });
        return applied(outcome, ctx);
      },
    }),
  ];
}

/** Global plugins: PUT /admin/plugins/:name with the plugin's config, DELETE to remove it. */
function pluginRoutes(plane: ControlPlane): AdminRoute[] {
  const globals = (draft: Doc): Record<string, unknown> => {
    const plugins = (draft.plugins ??= {}) as Doc;
    return (plugins.global ??= {}) as Record<string, unknown>;
  };
  return [
    defineAdminRoute({
      method: 'GET',
      path: '/admin/plugins',
      role: 'viewer',
      summary: 'Global plugins and their configs (secrets redacted)',
      tags: ['plugins'],
      handler: () => ({ body: { global: ((plane.redact(plane.manager.document) as Doc).plugins as Doc | undefined)?.global ?? {} } }),
    }),
    defineAdminRoute({
      method: 'PUT',
      path: '/admin/plugins/:name',
      role: 'admin',
      summary: 'Enable or reconfigure a global plugin (validated against its schema)',
      tags: ['plugins'],
      body: Type.Object({}, { additionalProperties: true }),
      action: 'plugin.put',
      async handler(ctx) {
        const outcome = await plane.manager.mutate((draft) => void (globals(draft)[ctx.params.name!] = ctx.body), { source: 'api', actor: ctx.principal.name });
        return applied(outcome, ctx);
      },
    }),
    defineAdminRoute({
      method: 'DELETE',
      path: '/admin/plugins/:name',
      role: 'admin',
      summary: 'Disable a global plugin',
      tags: ['plugins'],
      action: 'plugin.delete',
      async handler(ctx) {
        const current = ((plane.manager.document as Doc).plugins as Doc | undefined)?.global as Doc | undefined;
        if (current?.[ctx.params.name!] === undefined) notFound(`global plugin "${ctx.params.name}"`);
        const outcome = await plane.manager.mutate((draft) => void delete globals(draft)[ctx.params.name!], { source: 'api', actor: ctx.principal.name });
        return applied(outcome, ctx);
      },
    }),
  ];
}

export function entityAdminRoutes(plane: ControlPlane): AdminRoute[] {
  return [...KINDS.flatMap((kind) => entityRoutes(plane, kind)), ...pluginRoutes(plane)];
}
