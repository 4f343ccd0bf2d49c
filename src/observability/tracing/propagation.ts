import type { IncomingHttpHeaders } from 'node:http';
import {
  ROOT_CONTEXT,
  createContextKey,
  isSpanContextValid,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';

export type PropagatorName = 'tracecontext' | 'b3' | 'b3multi';

function propagatorFor(name: PropagatorName): TextMapPropagator {
  switch (name) {
    case 'tracecontext':
      return new W3CTraceContextPropagator();
    case 'b3':
      return new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER });
    case 'b3multi':
      return new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
  }
}

/** Every header any supported propagator reads or writes, so the proxy can strip the client's. */
export const PROPAGATION_HEADERS: readonly string[] = Object.freeze([
  ...new Set([
    ...new W3CTraceContextPropagator().fields(),
    ...new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }).fields(),
    ...new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }).fields(),
  ]),
]);

/**
 * B3 can say "no decision yet" (ids without a sampled flag: the receiver decides) or "do not
 * sample" without ids (`b3: 0`). The OTel B3 propagator maps the first to unsampled and ignores
 * the second; the sampler reads this hint to honour both.
 */
export const B3_SAMPLING_HINT = createContextKey('sluice.b3-sampling-hint');
export type B3SamplingHint = 'deferred' | 'deny';

// Node lower-cases incoming header names, so a plain property read is the lookup.
const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** Outgoing headers as a flat [name, value, ...] list, the shape undici's request takes. */
const flatSetter: TextMapSetter<string[]> = {
  set: (carrier, key, value) => {
    carrier.push(key, value);
  },
};

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function b3Hint(headers: IncomingHttpHeaders, found: boolean): B3SamplingHint | undefined {
  const single = first(headers['b3'])?.trim();
  if (single !== undefined && single !== '') {
    if (!found) return single === '0' ? 'deny' : undefined;
    // traceid-spanid[-sampled[-parent]]: a third part of 16 hex is a parent id, not a flag.
    const third = single.split('-')[2];
    return third === undefined || third.length === 16 ? 'deferred' : undefined;
  }
  const sampled = first(headers['x-b3-sampled']);
  if (!found) return sampled === '0' || sampled === 'false' ? 'deny' : undefined;
  return sampled === undefined && first(headers['x-b3-flags']) === undefined ? 'deferred' : undefined;
}

export interface Propagation {
  /** Parent context from request headers: ROOT_CONTEXT (plus hints) when no valid parent. */
  extract(headers: IncomingHttpHeaders): Context;
  /** Headers carrying the span in `context`, per every configured propagator. */
  inject(context: Context): string[];
  /** Lower-case names this configuration writes. */
  readonly fields: readonly string[];
}

export function createPropagation(names: readonly PropagatorName[]): Propagation {
  const entries = names.map((name) => ({ name, propagator: propagatorFor(name) }));
  const propagators = entries.map((e) => e.propagator);
  const usesB3 = entries.some((e) => e.name !== 'tracecontext');
  const fields = [...new Set(propagators.flatMap((p) => p.fields()))];

  return {
    fields,
    extract(headers) {
      // The first propagator (in configured order) that finds a valid parent wins; a malformed
      // header simply yields nothing and the next one is tried, ending in a new root.
      for (const { name, propagator } of entries) {
        const ctx = propagator.extract(ROOT_CONTEXT, headers, headerGetter);
        const parent = trace.getSpanContext(ctx);
        if (parent === undefined || !isSpanContextValid(parent)) continue;
        if (name === 'tracecontext') return ctx;
        const hint = b3Hint(headers, true);
        return hint === undefined ? ctx : ctx.setValue(B3_SAMPLING_HINT, hint);
      }
      const hint = usesB3 ? b3Hint(headers, false) : undefined;
      return hint === undefined ? ROOT_CONTEXT : ROOT_CONTEXT.setValue(B3_SAMPLING_HINT, hint);
    },
    inject(context) {
      const out: string[] = [];
      for (const p of propagators) p.inject(context, out, flatSetter);
      return out;
    },
  };
}
