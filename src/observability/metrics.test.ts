import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { GatewayMetrics } from './metrics.ts';

const promtool = spawnSync('promtool', ['--version']).status === 0;

describe('GatewayMetrics', () => {
  it('exposes the control-plane series', async () => {
    const metrics = new GatewayMetrics();
    metrics.configApplies.inc({ source: 'startup', result: 'applied' });
    metrics.configVersion.set(3);
    const text = await metrics.text();
    assert.match(text, /sluice_config_applies_total\{source="startup",result="applied"\} 1/);
    assert.match(text, /sluice_config_version 3/);
    assert.match(text, /sluice_process_cpu_seconds_total/);
  });

  // promtool comes from Debian's "prometheus" package; .ci/run installs it, so in CI this always runs.
  it('passes promtool check metrics', { skip: !promtool && process.env.CI !== 'true' ? 'promtool not installed' : false }, async () => {
    const metrics = new GatewayMetrics();
    metrics.configApplies.inc({ source: 'api', result: 'rejected' });
    metrics.shutdownSeconds.set({ outcome: 'clean' }, 1.5);
    const result = spawnSync('promtool', ['check', 'metrics'], { input: await metrics.text(), encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });
});
