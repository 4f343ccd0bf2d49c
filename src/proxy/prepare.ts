import { GatewayError, toGatewayError } from '../errors/index.ts';
import { runOnUpstreamRequest } from '../plugins/chain.ts';
import type { UpstreamRequest } from '../runtime/context.ts';
import { sendProblem } from '../runtime/respond.ts';
import type { Target, Upstream } from '../upstream/upstream.ts';
import type { ForwardInput } from './forward.ts';
import { buildUpstreamHeaders } from './upstream-request.ts';

const NO_TARGET = new GatewayError('SLUICE_ERR_NO_HEALTHY_UPSTREAM');

export interface PreparedRequest {
  upstream: Upstream;
  target: Target;
  request: UpstreamRequest;
}

/**
 * Pick the route's upstream and target and build the request that target gets (path rewritten,
 * forwarding and identity headers applied). Shared by the HTTP and WebSocket forwarders so both
 * send exactly the same thing. No available target → 503 sent, undefined returned.
 */
export function prepareUpstreamRequest(input: ForwardInput, chosen?: Upstream): PreparedRequest | undefined {
  const { ctx, route, snapshot, listener } = input;
  // Admission (forward()) may already have chosen the upstream of a split route.
  const upstream = chosen ?? route.pickUpstream();
  const target = upstream.pick(ctx);
  if (target === undefined) {
    upstream.series?.error(NO_TARGET);
    sendProblem(ctx, new GatewayError('SLUICE_ERR_NO_HEALTHY_UPSTREAM', { detail: `upstream "${upstream.name}" has no routable target (all unhealthy, ejected, forced down or drained)` }));
    return undefined;
  }
  ctx.target = target.info;
  const preserveHost = route.preserveHost ?? upstream.preserveHost;
  const rewritten = route.rewrite === undefined ? ctx.path : route.rewrite(ctx.path, ctx.params);
  const request: UpstreamRequest = {
    method: ctx.method,
    path: target.basePath + rewritten + (ctx.query === '' ? '' : `?${ctx.query}`),
    headers: buildUpstreamHeaders({
      ctx,
      settings: snapshot.proxy,
      host: preserveHost && input.authority !== '' ? input.authority : target.authority,
      authority: input.authority,
      listenerPort: listener.port,
      trustedPeer: listener.trustedPeers.has(ctx.clientIp),
      clientCertHeaders: listener.clientCertHeaders,
    }),
  };
  return { upstream, target, request };
}

/** Run the onUpstreamRequest phase (sync or async), then `start`; a failing plugin answers with its error. */
export function runUpstreamRequestPhase(input: ForwardInput, request: UpstreamRequest, start: (request: UpstreamRequest) => void): void {
  const { ctx } = input;
  try {
    const pending = runOnUpstreamRequest(input.route.chain, ctx, request);
    if (pending instanceof Promise) {
      pending.then(
        () => start(request),
        (error: unknown) => sendProblem(ctx, toGatewayError(error, 'SLUICE_ERR_PLUGIN_FAILED')),
      );
    } else start(request);
  } catch (error) {
    sendProblem(ctx, toGatewayError(error, 'SLUICE_ERR_PLUGIN_FAILED'));
  }
}
