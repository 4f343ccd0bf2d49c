import type { Context } from '@opentelemetry/api';
import { ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';
import { B3_SAMPLING_HINT } from './propagation.ts';

const NOT_RECORD: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

/** New traces: the ratio, unless a B3 header said "do not sample". */
class RootSampler implements Sampler {
  constructor(private readonly ratio: Sampler) {}
  shouldSample(context: Context, traceId: string): SamplingResult {
    if (context.getValue(B3_SAMPLING_HINT) === 'deny') return NOT_RECORD;
    return this.ratio.shouldSample(context, traceId, '', 0, {}, []);
  }
  toString(): string {
    return `SluiceRoot{${this.ratio.toString()}}`;
  }
}

/** Remote unsampled parent: off, unless B3 deferred the decision to us, then the ratio. */
class RemoteUnsampledSampler implements Sampler {
  constructor(private readonly ratio: Sampler) {}
  shouldSample(context: Context, traceId: string): SamplingResult {
    if (context.getValue(B3_SAMPLING_HINT) === 'deferred') return this.ratio.shouldSample(context, traceId, '', 0, {}, []);
    return NOT_RECORD;
  }
  toString(): string {
    return 'SluiceRemoteUnsampled';
  }
}

/**
 * Parent-based: a sampled parent is followed, an unsampled one too (the trace id still travels
 * with flags 00), and only new traces are sampled at `ratio` (by trace id, so every service
 * using the same ratio agrees).
 */
export function createSampler(ratio: number): Sampler {
  const byRatio = new TraceIdRatioBasedSampler(ratio);
  return new ParentBasedSampler({ root: new RootSampler(byRatio), remoteParentNotSampled: new RemoteUnsampledSampler(byRatio) });
}
