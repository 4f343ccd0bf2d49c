import { applyHeaderOps, compileHeaderOps, hasHeaderOps } from '../../header-transform.ts';
import { definePlugin } from '../../types.ts';
import { RequestHeadersSchema } from './schema.ts';

/**
 * request-headers: rename, remove, set and add headers on the upstream request. Runs in
 * onUpstreamRequest, after the target is picked, so `${upstream}` and `${target}` are known.
 * `set` may choose the upstream Host; hop-by-hop and framing headers are refused at create time.
 */
export const requestHeadersPlugin = definePlugin({
  name: 'request-headers',
  priority: 500,
  description: 'Renames, removes, sets and adds headers on the request sent upstream (values are templates).',
  schema: RequestHeadersSchema,
  create(config) {
    const ops = compileHeaderOps(config, { allowHostSet: true });
    if (!hasHeaderOps(ops)) return {};
    return {
      onUpstreamRequest(ctx, req) {
        applyHeaderOps(ops, req.headers, ctx);
      },
    };
  },
});
