import type { ErrorCode } from '../errors/index.ts';

/**
 * How one upstream attempt ended, as passive health (outlier detection) and circuit breakers see
 * it. `cancelled` (the client went away, a plugin or size limit stopped the request) says nothing
 * about the target and is not counted by either.
 */
export type OutcomeKind = 'success' | 'server-error' | 'connect-failure' | 'timeout' | 'reset' | 'cancelled';

export interface AttemptOutcome {
  kind: OutcomeKind;
  /** Upstream status (0 when no response head arrived). */
  status: number;
  /** From sending the request to the end of the attempt. */
  durationMs: number;
}

/** Something that learns from every finished attempt on a target (outlier detector, breaker). */
export interface OutcomeObserver {
  onOutcome(outcome: AttemptOutcome): void;
}

const BY_ERROR: Partial<Record<ErrorCode, OutcomeKind>> = {
  SLUICE_ERR_UPSTREAM_CONNECT: 'connect-failure',
  SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT: 'connect-failure',
  SLUICE_ERR_UPSTREAM_TLS: 'connect-failure',
  SLUICE_ERR_UPSTREAM_TIMEOUT: 'timeout',
  SLUICE_ERR_UPSTREAM_RESET: 'reset',
  SLUICE_ERR_UPSTREAM_BAD_RESPONSE: 'reset',
};

/** Classify an attempt from the error it ended with (if any) and the upstream status (0 = none). */
export function outcomeKind(error: ErrorCode | undefined, status: number): OutcomeKind {
  if (error !== undefined) {
    const kind = BY_ERROR[error];
    if (kind !== undefined) return kind;
    // Client aborts, body limits, plugin failures: not the target's doing.
    if (status === 0) return 'cancelled';
  }
  return status >= 500 ? 'server-error' : 'success';
}
