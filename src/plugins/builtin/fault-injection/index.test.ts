import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { GatewayError } from '../../../errors/index.ts';
import { PluginMetricsRegistry } from '../../../observability/plugin-metrics.ts';
import type { DirectResponse, RequestContext } from '../../../runtime/context.ts';
import { createInstance, fakeContext, fakeEnv, fakeUpstreamRequest } from '../../test-helpers.ts';
import { validatePluginConfig } from '../../validate.ts';
import { createFaultInjection, faultInjectionPlugin } from './index.ts';
import type { FaultInjectionConfig } from './schema.ts';

/** A context whose response can "close" like a real one when the client goes away. */
function ctxWith(headers: Record<string, string> = {}): RequestContext & { close(): void } {
  const res = Object.assign(new EventEmitter(), { destroyed: false });
  const ctx = fakeContext({ headers, res: res as unknown as ServerResponse });
  return Object.assign(ctx, {
    close() {
      res.destroyed = true;
      res.emit('close');
    },
  });
}

/** The instance with defaults applied, a fixed random sequence and readable metrics. */
function instance(config: Partial<FaultInjectionConfig>, randoms: number[] = []) {
  const { value, issues } = validatePluginConfig(faultInjectionPlugin, config, 'fault-injection');
  assert.deepEqual(issues, []);
  const families: { name: string; get(): Promise<{ values: { value: number; labels: Record<string, string | number> }[] }> }[] = [];
  const registry = new PluginMetricsRegistry((f) => void families.push(f as never));
  let i = 0;
  const random = () => randoms[i++ % randoms.length] ?? 0;
  const plugin = createFaultInjection(value as FaultInjectionConfig, fakeEnv({ metrics: registry.forPlugin('fault-injection') }), random);
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const family = families.find((f) => f.name === `sluice_plugin_fault_injection_${name}`)!;
    const values = (await family.get()).values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return values.reduce((a, v) => a + v.value, 0);
  };
  return { plugin, metric };
}

function aborted(fn: () => unknown, status: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GatewayError);
    assert.equal(e.code, 'SLUICE_ERR_FAULT_INJECTED');
    assert.equal(e.status, status);
    assert.equal(e.expose, true);
    return true;
  });
}

describe('fault-injection plugin', () => {
  it('does nothing without faults configured (all builtins create with defaults)', async () => {
    const plugin = await createInstance(faultInjectionPlugin, {});
    assert.equal(plugin.onRequest!(ctxWith()), undefined);
    assert.equal(plugin.onUpstreamRequest, undefined);
  });

  it('aborts the configured percentage with problem+json code SLUICE_ERR_FAULT_INJECTED, counted', async () => {
    // 10 %: random 0.05 → 5 < 10 hits, 0.5 and 0.1 (exactly 10) do not.
    const { plugin, metric } = instance({ abort: { status: 503, percentage: 10 } }, [0.05, 0.5, 0.1]);
    aborted(() => plugin.onRequest!(ctxWith()), 503);
    assert.equal(plugin.onRequest!(ctxWith()), undefined);
    assert.equal(plugin.onRequest!(ctxWith()), undefined);
    assert.equal(await metric('injected_total', { route: 'users', fault: 'abort' }), 1);
    assert.equal(await metric('injected_total', { fault: 'delay' }), 0);
  });

  it('percentage 0 never fires, 100 always does (defaults to 100)', () => {
    const never = instance({ abort: { status: 500, percentage: 0 } }, [0]).plugin;
    assert.equal(never.onRequest!(ctxWith()), undefined);
    const always = instance({ abort: { status: 502 } }, [0.999999]).plugin;
    aborted(() => always.onRequest!(ctxWith()), 502);
  });

  it('answers a configured body as is instead of the problem document', () => {
    const { plugin } = instance({ abort: { status: 429, body: 'slow down' } });
    const direct = plugin.onRequest!(ctxWith()) as DirectResponse;
    assert.deepEqual(direct, { status: 429, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: 'slow down' });
  });

  it('delays with a timer, then aborts when both are configured', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { plugin, metric } = instance({ delay: { duration: '2s' }, abort: { status: 504 } });
    const pending = plugin.onRequest!(ctxWith()) as Promise<unknown>;
    assert.ok(pending instanceof Promise);
    let settled = false;
    pending.catch(() => undefined).finally(() => (settled = true));
    t.mock.timers.tick(1999);
    await Promise.resolve();
    assert.equal(settled, false, 'still held before the delay is over');
    assert.equal(await metric('active_delays'), 1);
    t.mock.timers.tick(1);
    await assert.rejects(pending, (e: GatewayError) => e.code === 'SLUICE_ERR_FAULT_INJECTED' && e.status === 504);
    assert.equal(await metric('active_delays'), 0);
    assert.equal(await metric('injected_total', { fault: 'delay' }), 1);
  });

  it('stops waiting when the client goes away, and then injects nothing', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { plugin, metric } = instance({ delay: { duration: '1h' }, abort: { status: 503 } });
    const ctx = ctxWith();
    const pending = plugin.onRequest!(ctx) as Promise<unknown>;
    ctx.close();
    assert.equal(await pending, undefined);
    assert.equal(await metric('active_delays'), 0);
    assert.equal(await metric('injected_total', { fault: 'abort' }), 0);
    assert.equal((ctx.res as unknown as EventEmitter).listenerCount('close'), 0, 'no listener left behind');
  });

  it('applies x-sluice-fault-* headers only when enabled, ignores malformed ones, strips them upstream', async (t) => {
    const off = instance({}).plugin;
    assert.equal(off.onRequest!(ctxWith({ 'x-sluice-fault-abort': '503' })), undefined);

    const { plugin } = instance({ headers: true, abort: { status: 500, percentage: 0 } }, [0.5]);
    aborted(() => plugin.onRequest!(ctxWith({ 'x-sluice-fault-abort': '429' })), 429);
    for (const bad of ['200', '600', 'abc', '5e2', '']) {
      assert.equal(plugin.onRequest!(ctxWith({ 'x-sluice-fault-abort': bad })), undefined, bad);
    }
    // 50 % asked, random 0.5 → 50 is not < 50: no fault; 60 % → fault.
    assert.equal(plugin.onRequest!(ctxWith({ 'x-sluice-fault-abort': '503', 'x-sluice-fault-abort-percentage': '50' })), undefined);
    aborted(() => plugin.onRequest!(ctxWith({ 'x-sluice-fault-abort': '503', 'x-sluice-fault-abort-percentage': '60' })), 503);
    assert.equal(plugin.onRequest!(ctxWith({ 'x-sluice-fault-abort': '503', 'x-sluice-fault-abort-percentage': '101' })), undefined);

    const req = fakeUpstreamRequest(['x-sluice-fault-abort', '503', 'x-sluice-fault-delay', '10', 'x-keep', '1']);
    plugin.onUpstreamRequest!(ctxWith(), req);
    assert.deepEqual(req.headers.raw, ['x-keep', '1']);

    // Header delays are capped by maxHeaderDelay.
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const capped = instance({ headers: true, maxHeaderDelay: '100ms' }).plugin;
    const pending = capped.onRequest!(ctxWith({ 'x-sluice-fault-delay': '3600000' })) as Promise<unknown>;
    let done = false;
    void pending.then(() => (done = true));
    t.mock.timers.tick(100);
    await pending;
    assert.equal(done, true);
  });

  it('rejects out-of-range config with its path', () => {
    const bad = (config: unknown) => validatePluginConfig(faultInjectionPlugin, config, 'fault-injection').issues.map((i) => i.path);
    assert.ok(bad({ abort: { status: 200 } }).some((p) => p.includes('abort') && p.includes('status')));
    assert.ok(bad({ delay: { duration: '1s', percentage: 101 } }).some((p) => p.includes('delay') && p.includes('percentage')));
    assert.ok(bad({ delay: {} }).some((p) => p.includes('delay')));
    assert.ok(bad({ abort: { status: 503 }, extra: 1 }).length > 0);
  });
});

