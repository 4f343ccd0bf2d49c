import { Type } from '@sinclair/typebox';
import { stringify } from 'yaml';
import type { ApplyOutcome } from '../../runtime/config-manager.ts';
import type { ControlPlane } from '../control-plane.ts';
import { defineAdminRoute, type AdminReply, type AdminRequestContext, type AdminRoute } from '../http/types.ts';
import { conflict, notFound, problem } from './common.ts';

/** Map a config apply outcome to a reply: 200 with the new version, or 400 with every error. */
export function applied(outcome: ApplyOutcome, ctx: AdminRequestContext, status = 200): AdminReply {
  if (outcome.ok) return { status, body: { version: outcome.version } };
  return problem('SLUICE_ERR_CONFIG_INVALID', 'the configuration was rejected; the running configuration stays in force', ctx.requestId, ctx.req.url ?? '', outcome.errors);
}

function versionParam(ctx: AdminRequestContext, name = 'n'): number {
  const n = Number(ctx.params[name]);
  if (!Number.isInteger(n) || n < 1) notFound(`config version "${ctx.params[name]}"`);
  return n;
}

async function storedConfig(plane: ControlPlane, version: number): Promise<unknown> {
  const stored = await plane.history.get(version);
  if (stored === undefined) notFound(`config version ${version}`);
  return stored.config;
}

export function configRoutes(plane: ControlPlane): AdminRoute[] {
  return [
    defineAdminRoute({
      method: 'GET',
      path: '/admin/config',
      role: 'viewer',
      summary: 'The running configuration document (secrets redacted); ?format=yaml exports it as a file',
      query: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('yaml')])) }),
      handler(ctx) {
        const redacted = plane.redact(plane.manager.document);
        if (ctx.query.get('format') === 'yaml') {
          const header = `# Sluice configuration, version ${plane.manager.version} (secrets redacted)\n`;
          return { contentType: 'application/yaml; charset=utf-8', body: header + stringify(redacted) };
        }
        return { body: { version: plane.manager.version, config: redacted } };
      },
    }),
    defineAdminRoute({
      method: 'PUT',
      path: '/admin/config',
      role: 'admin',
      summary: 'Replace the whole configuration (validated like a file; a new version)',
      body: Type.Object({}, { additionalProperties: true }),
      action: 'config.replace',
      async handler(ctx) {
        return applied(await plane.manager.apply(ctx.body, { source: 'api', actor: ctx.principal.name }), ctx);
      },
    }),
    defineAdminRoute({
      method: 'POST',
      path: '/admin/config/reload',
      role: 'operator',
      summary: 'Re-read the config file and apply it',
      action: 'config.reload',
      async handler(ctx) {
        if (!plane.manager.hasFile) conflict('this gateway was not started from a config file: nothing to reload');
        return applied(await plane.manager.reloadFile({ source: 'api', actor: ctx.principal.name }), ctx);
      },
    }),
    defineAdminRoute({
      method: 'GET',
      path: '/admin/config/versions',
      role: 'viewer',
      summary: 'Applied config versions, newest first',
      handler: () => ({ body: { current: plane.manager.version, versions: plane.history.list() } }),
    }),
    defineAdminRoute({
      method: 'GET',
      path: '/admin/config/versions/:n',
      role: 'viewer',
      summary: 'One config version (secrets redacted)',
      async handler(ctx) {
        const n = versionParam(ctx);
        const stored = await plane.history.get(n);
        if (stored === undefined) notFound(`config version ${n}`);
        return { body: { ...stored, config: plane.redact(stored.config) } };
      },
    }),
    defineAdminRoute({
      method: 'GET',
      path: '/admin/config/diff',
      role: 'viewer',
      summary: 'Structural diff between two versions (default: previous → current)',
      query: Type.Object({ from: Type.Optional(Type.String({ pattern: '^[0-9]+$' })), to: Type.Optional(Type.String({ pattern: '^[0-9]+$' })) }),
      async handler(ctx) {
        const to = Number(ctx.query.get('to') ?? plane.manager.version);
        const from = Number(ctx.query.get('from') ?? to - 1);
        const changes = plane.diff(plane.redact(await storedConfig(plane, from)), plane.redact(await storedConfig(plane, to)));
        return { body: { from, to, changes } };
      },
    }),
    defineAdminRoute({
      method: 'POST',
      path: '/admin/config/rollback/:n',
      role: 'admin',
      summary: 'Apply an earlier version again (as a new version)',
      action: 'config.rollback',
      async handler(ctx) {
        const outcome = await plane.manager.rollback(versionParam(ctx), ctx.principal.name);
        if (outcome === undefined) notFound(`config version ${ctx.params.n}`);
        return applied(outcome, ctx);
      },
    }),
  ];
}
