import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeKind } from './outcome.ts';

describe('outcomeKind', () => {
  it('counts upstream failures against the target and client-side endings as cancelled', () => {
    assert.equal(outcomeKind(undefined, 200), 'success');
    assert.equal(outcomeKind(undefined, 404), 'success');
    assert.equal(outcomeKind(undefined, 503), 'server-error');
    assert.equal(outcomeKind('SLUICE_ERR_UPSTREAM_CONNECT', 0), 'connect-failure');
    assert.equal(outcomeKind('SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT', 0), 'connect-failure');
    assert.equal(outcomeKind('SLUICE_ERR_UPSTREAM_TIMEOUT', 0), 'timeout');
    assert.equal(outcomeKind('SLUICE_ERR_UPSTREAM_TIMEOUT', 200), 'timeout', 'a body that stalls after the head');
    assert.equal(outcomeKind('SLUICE_ERR_UPSTREAM_RESET', 200), 'reset');
    assert.equal(outcomeKind('SLUICE_ERR_CLIENT_ABORTED', 0), 'cancelled');
    assert.equal(outcomeKind('SLUICE_ERR_CLIENT_ABORTED', 200), 'success', 'the target answered; the client left');
  });
});
