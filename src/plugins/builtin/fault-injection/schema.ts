import { Type, type Static } from '@sinclair/typebox';
import { duration } from '../../../config/schema/common.ts';

const percentage = () =>
  Type.Optional(Type.Number({ minimum: 0, maximum: 100, default: 100, description: 'Share of matching requests that get the fault, 0-100 (fractions allowed)' }));

export const FaultAbortSchema = Type.Object(
  {
    status: Type.Integer({ minimum: 400, maximum: 599, description: 'HTTP status answered instead of forwarding (gRPC clients get the matching gRPC status)' }),
    percentage: percentage(),
    body: Type.Optional(
      Type.String({ maxLength: 65536, description: 'Sent as is (text/plain) instead of the problem+json document with code SLUICE_ERR_FAULT_INJECTED' }),
    ),
  },
  { additionalProperties: false, description: 'Answer requests with an error status without forwarding them' },
);

export const FaultDelaySchema = Type.Object(
  {
    duration: duration({ description: 'Added before the request is forwarded (or aborted)' }),
    percentage: percentage(),
  },
  { additionalProperties: false, description: 'Hold requests before forwarding them' },
);

export const FaultInjectionSchema = Type.Object(
  {
    abort: Type.Optional(FaultAbortSchema),
    delay: Type.Optional(FaultDelaySchema),
    headers: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Honour client-sent x-sluice-fault-abort (status), x-sluice-fault-delay (ms) and their -percentage headers; they are stripped before forwarding. Only for trusted callers',
      }),
    ),
    maxHeaderDelay: Type.Optional(duration({ default: '10s', description: 'Longest delay an x-sluice-fault-delay header may ask for (longer values are capped)' })),
  },
  {
    additionalProperties: false,
    description: 'Chaos testing: abort or delay a percentage of requests (delay first, then abort), or on request headers when enabled',
  },
);
export type FaultInjectionConfig = Static<typeof FaultInjectionSchema>;
