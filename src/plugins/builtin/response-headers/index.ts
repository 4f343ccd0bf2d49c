import type { RequestContext } from '../../../runtime/context.ts';
import { applyHeaderOps, compileHeaderOps, hasHeaderOps, type TemplatedHeader } from '../../header-transform.ts';
import { definePlugin, type PluginInstance } from '../../types.ts';
import { ResponseHeadersSchema } from './schema.ts';

/**
 * response-headers: rename, remove, set and add headers on the response to the client.
 *
 * With `applyToErrors: false` everything happens in onResponse, on the upstream response only.
 *
 * With `applyToErrors: true` (default) the set/add headers must also reach responses that never
 * pass onResponse (errors, plugin answers). The pipeline adds ctx.responseHeaders to EVERY
 * response, proxied ones included, so those headers are rendered in onRequest and pushed there
 * (and only there: no duplicates). onResponse then renames/removes on the upstream response and
 * deletes the upstream's own values of the `set` names, so `set` still replaces rather than adds.
 * Templates that need the target (`${upstream}`, `${target}`) cannot render in onRequest; those
 * headers are applied in onResponse and therefore appear on proxied responses only.
 */
export const responseHeadersPlugin = definePlugin({
  name: 'response-headers',
  // Runs before auth and traffic control so its headers (often security headers) also reach the
  // 401/403/429 answers those plugins give without letting later plugins run.
  priority: 10500,
  description: 'Renames, removes, sets and adds headers on the response to the client (values are templates).',
  schema: ResponseHeadersSchema,
  create(config): PluginInstance {
    const ops = compileHeaderOps(config, { allowHostSet: false });
    if (!hasHeaderOps(ops)) return {};
    if (config.applyToErrors === false) {
      return {
        onResponse(ctx, res) {
          applyHeaderOps(ops, res.headers, ctx);
        },
      };
    }
    const early = (h: TemplatedHeader) => !h.template.needsTarget;
    const earlySet = ops.set.filter(early);
    const earlyAdd = ops.add.filter(early);
    const lateSet = ops.set.filter((h) => !early(h));
    const lateAdd = ops.add.filter((h) => !early(h));
    const replaced = [...ops.remove, ...earlySet.map((h) => h.name)];
    const lateOps = { rename: ops.rename, remove: replaced, set: lateSet, add: lateAdd };
    return {
      onRequest: earlySet.length + earlyAdd.length > 0 ? (ctx) => pushRendered(earlySet, earlyAdd, ctx) : undefined,
      onResponse(ctx, res) {
        applyHeaderOps(lateOps, res.headers, ctx);
      },
    };
  },
});

/** Render into ctx.responseHeaders; an empty `set` result means "no such header". */
function pushRendered(set: readonly TemplatedHeader[], add: readonly TemplatedHeader[], ctx: RequestContext): void {
  const out = ctx.responseHeaders;
  for (let i = 0; i < set.length; i++) {
    const value = set[i]!.template.render(ctx);
    if (value !== '') out.push(set[i]!.name, value);
  }
  for (let i = 0; i < add.length; i++) {
    const value = add[i]!.template.render(ctx);
    if (value !== '') out.push(add[i]!.name, value);
  }
}
