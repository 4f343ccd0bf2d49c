import type { RequestContext } from '../runtime/context.ts';
import type { ProxySettings } from '../runtime/snapshot.ts';
import { HeaderList } from '../runtime/headers.ts';
import { applyClientCertHeaders, type ClientCertHeaders } from '../server/client-cert.ts';
import { forwardableH2RequestHeaders, forwardableRequestHeaders, forwardedNode, joinedHeader } from './headers.ts';

const VIA = '1.1 sluice';

export interface ForwardingInput {
  ctx: RequestContext;
  settings: ProxySettings;
  /** Host header value to send upstream. */
  host: string;
  /** Client's original authority, for X-Forwarded-Host / Forwarded host. */
  authority: string;
  listenerPort: number;
  trustedPeer: boolean;
  /** mTLS listener identity headers: stripped from the client's, set from the verified certificate. */
  clientCertHeaders?: ClientCertHeaders | undefined;
}

/** The upstream request headers: client headers minus hop-by-hop, plus the forwarding headers. */
export function buildUpstreamHeaders(input: ForwardingInput): HeaderList {
  const { ctx, settings } = input;
  const raw = ctx.req.rawHeaders;
  // HTTP/2 field names arrive lower-cased and without Connection (nghttp2 rejects it).
  const out = ctx.req.httpVersionMajor === 2 ? forwardableH2RequestHeaders(raw) : forwardableRequestHeaders(raw);
  out.push('host', input.host);
  const headers = new HeaderList(out);
  if (settings.xForwarded) {
    const prior = joinedHeader(raw, 'x-forwarded-for');
    headers.add('x-forwarded-for', prior === undefined ? ctx.clientIp : `${prior}, ${ctx.clientIp}`);
    // Only a trusted peer may tell us the original scheme/host/port; anyone else could spoof them.
    if (!input.trustedPeer || !headers.has('x-forwarded-proto')) {
      headers.set('x-forwarded-proto', ctx.scheme);
      headers.set('x-forwarded-host', input.authority);
      headers.set('x-forwarded-port', String(input.listenerPort));
    }
  } else {
    const prior = joinedHeader(raw, 'x-forwarded-for');
    if (prior !== undefined) headers.add('x-forwarded-for', prior);
  }
  const priorForwarded = joinedHeader(raw, 'forwarded');
  if (settings.forwarded) {
    const element = `for=${forwardedNode(ctx.clientIp)};host="${input.authority}";proto=${ctx.scheme}`;
    headers.add('forwarded', priorForwarded === undefined ? element : `${priorForwarded}, ${element}`);
  } else if (priorForwarded !== undefined) headers.add('forwarded', priorForwarded);
  const priorVia = joinedHeader(raw, 'via');
  if (settings.via) headers.add('via', priorVia === undefined ? VIA : `${priorVia}, ${VIA}`);
  else if (priorVia !== undefined) headers.add('via', priorVia);
  if (input.clientCertHeaders !== undefined) applyClientCertHeaders(headers, ctx.req.socket, input.clientCertHeaders);
  return headers;
}

/** Append our Via to a response's header list when configured. */
export function addResponseVia(headers: HeaderList, settings: ProxySettings): void {
  if (!settings.via) return;
  const prior = headers.get('via');
  headers.set('via', prior === undefined ? VIA : `${prior}, ${VIA}`);
}
