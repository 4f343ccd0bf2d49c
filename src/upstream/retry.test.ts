import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, compileRetry, DEFAULT_RETRY, methodRetryable, parseRequestTimeout, RetryBudget, retryReasonForError, retryReasonForStatus } from './retry.ts';

describe('retry policy', () => {
  it('default: one retry, connect failures only, idempotent methods, other target only', () => {
    assert.equal(DEFAULT_RETRY.attempts, 1);
    assert.equal(DEFAULT_RETRY.otherTargetOnly, true);
    assert.equal(retryReasonForError(DEFAULT_RETRY, 'SLUICE_ERR_UPSTREAM_CONNECT', false, false), 'connect_failure');
    assert.equal(retryReasonForError(DEFAULT_RETRY, 'SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT', false, false), 'connect_failure');
    assert.equal(retryReasonForError(DEFAULT_RETRY, 'SLUICE_ERR_UPSTREAM_RESET', false, true), undefined, 'reset is not a default condition');
    assert.equal(retryReasonForStatus(DEFAULT_RETRY, 503, undefined), undefined);
    assert.equal(methodRetryable(DEFAULT_RETRY, 'GET'), true);
    assert.equal(methodRetryable(DEFAULT_RETRY, 'POST'), false);
  });

  it('a request that was sent needs a resendable request; one not sent does not', () => {
    const p = compileRetry({ on: ['reset', 'timeout', 'connect-failure'] });
    assert.equal(retryReasonForError(p, 'SLUICE_ERR_UPSTREAM_RESET', true, false), undefined);
    assert.equal(retryReasonForError(p, 'SLUICE_ERR_UPSTREAM_RESET', true, true), 'reset');
    assert.equal(retryReasonForError(p, 'SLUICE_ERR_UPSTREAM_RESET', false, false), 'reset');
    assert.equal(retryReasonForError(p, 'SLUICE_ERR_UPSTREAM_TIMEOUT', true, true), 'timeout');
    assert.equal(retryReasonForError(p, 'SLUICE_ERR_CLIENT_ABORTED', false, true), undefined, 'never for failures that are not the upstream');
    assert.equal(retryReasonForError(p, 'SLUICE_ERR_BODY_TOO_LARGE', false, true), undefined);
  });

  it('status conditions: single codes, gateway-error, 5xx, gRPC statuses', () => {
    const gw = compileRetry({ on: ['gateway-error'] });
    assert.equal(retryReasonForStatus(gw, 502, undefined), '502');
    assert.equal(retryReasonForStatus(gw, 504, undefined), '504');
    assert.equal(retryReasonForStatus(gw, 500, undefined), undefined);
    const any = compileRetry({ on: ['5xx'] });
    assert.equal(retryReasonForStatus(any, 500, undefined), '5xx');
    assert.equal(retryReasonForStatus(any, 404, undefined), undefined);
    const grpc = compileRetry({ on: ['grpc-unavailable', 'grpc-resource-exhausted'] });
    assert.equal(retryReasonForStatus(grpc, 200, 14), 'grpc');
    assert.equal(retryReasonForStatus(grpc, 200, 8), 'grpc');
    assert.equal(retryReasonForStatus(grpc, 200, 13), undefined, 'INTERNAL not listed');
    assert.equal(retryReasonForStatus(grpc, 503, undefined), undefined);
  });

  it('methods and allowNonIdempotent', () => {
    assert.equal(methodRetryable(compileRetry({ methods: ['GET'] }), 'PUT'), false);
    assert.equal(methodRetryable(compileRetry({ allowNonIdempotent: true }), 'POST'), true);
  });

  it('backoff: full jitter within [0, min(max, base × 2^(n-1))]', () => {
    const p = compileRetry({ backoff: { base: '10ms', max: '50ms' } });
    assert.equal(backoffMs(p, 1, () => 0), 0);
    assert.equal(backoffMs(p, 1, () => 0.999999), 9);
    assert.equal(backoffMs(p, 2, () => 0.5), 10);
    assert.equal(backoffMs(p, 3, () => 0.999999), 39);
    assert.equal(backoffMs(p, 10, () => 0.999999), 49, 'capped by max');
    for (let n = 1; n < 40; n++) {
      const v = backoffMs(p, n);
      assert.ok(v >= 0 && v < 50, `retry ${n}: ${v}`);
    }
  });

  it('budget: retries in flight ≤ max(minConcurrency, ratio × active)', () => {
    const p = compileRetry({ budget: { ratio: 0.2, minConcurrency: 2 } });
    const b = new RetryBudget();
    b.active = 5;
    assert.ok(b.tryAcquire(p));
    assert.ok(b.tryAcquire(p));
    assert.equal(b.tryAcquire(p), false, 'min concurrency 2 (0.2 × 5 = 1)');
    b.active = 20;
    assert.ok(b.tryAcquire(p));
    assert.ok(b.tryAcquire(p));
    assert.equal(b.tryAcquire(p), false, '0.2 × 20 = 4');
    b.retrying--;
    assert.ok(b.tryAcquire(p), 'a released slot is reusable');
  });

  it('X-Request-Timeout: integer milliseconds only', () => {
    assert.equal(parseRequestTimeout('1500'), 1500);
    assert.equal(parseRequestTimeout('0'), undefined);
    assert.equal(parseRequestTimeout('1.5s'), undefined);
    assert.equal(parseRequestTimeout('-1'), undefined);
    assert.equal(parseRequestTimeout(['1', '2']), undefined);
    assert.equal(parseRequestTimeout(undefined), undefined);
  });
});
