import { randomUUID } from 'node:crypto';
import { PROTECTED_HEADERS } from '../../header-transform.ts';
import { definePlugin, PluginConfigError } from '../../types.ts';
import { RequestIdSchema } from './schema.ts';

/** Ids we adopt from clients: short and log-safe (no spaces, quotes, CR/LF, JSON or ANSI escapes). */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,200}$/;

/**
 * request-id: one id per request, used in logs, problem documents and both directions of the
 * exchange. Runs first (20000) so every later plugin and log line sees the final id.
 */
export const requestIdPlugin = definePlugin({
  name: 'request-id',
  priority: 20000,
  description: "Adopts the client's request id when it is safe, or generates a UUID; forwards it upstream and echoes it back.",
  schema: RequestIdSchema,
  create(config) {
    const header = config.header ?? 'x-request-id';
    const lower = header.toLowerCase();
    if (PROTECTED_HEADERS.has(lower) || lower === 'host') {
      throw new PluginConfigError('header', `"${header}" is managed by the proxy and cannot carry the request id`);
    }
    const trustIncoming = config.trustIncoming ?? true;
    const echo = config.echo ?? true;
    return {
      onRequest(ctx) {
        const incoming = trustIncoming ? ctx.headers[lower] : undefined;
        // A repeated header arrives joined with ", " (or as an array): never a safe id.
        ctx.id = typeof incoming === 'string' && SAFE_ID.test(incoming) ? incoming : randomUUID();
        if (echo) ctx.responseHeaders.push(header, ctx.id);
      },
      onUpstreamRequest(ctx, req) {
        req.headers.set(header, ctx.id);
      },
      // The pipeline adds ctx.responseHeaders to the response; an upstream that echoes the id
      // itself would otherwise make the client see the header twice.
      onResponse: echo
        ? (_ctx, res) => {
            res.headers.delete(header);
          }
        : undefined,
    };
  },
});
