import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { GatewayError } from '../errors/index.ts';
import type { DirectResponse, RequestContext } from '../runtime/context.ts';
import {
  compilePluginChain,
  EMPTY_CHAIN,
  mergePluginScopes,
  runOnLog,
  runOnRequest,
  runOnResponse,
  runOnUpstreamRequest,
} from './chain.ts';
import { fakeContext, fakeEnv, fakeUpstreamRequest, fakeUpstreamResponse, recordingLogger } from './test-helpers.ts';
import { definePlugin, PluginConfigError, type PluginDefinition, type PluginInstance } from './types.ts';

const Empty = Type.Object({}, { additionalProperties: false });

/** A plugin whose hooks append `name` to ctx.state.trace; `instance` decides which hooks exist. */
function tracer(name: string, priority: number, instance: (trace: (ctx: RequestContext) => void) => PluginInstance): PluginDefinition {
  const trace = (ctx: RequestContext): void => {
    ((ctx.state.trace as string[]) ??= []).push(name);
  };
  return definePlugin({ name, priority, schema: Empty, create: () => instance(trace) });
}

const syncAll = (name: string, priority: number) =>
  tracer(name, priority, (t) => ({ onRequest: t, onUpstreamRequest: t, onResponse: t, onLog: t }));

const entries = (...defs: PluginDefinition[]) => defs.map((definition) => ({ definition, config: {} }));
const trace = (ctx: RequestContext) => ctx.state.trace as string[] | undefined;

describe('mergePluginScopes', () => {
  it('lets a later scope replace a plugin config whole, and false remove it', () => {
    const merged = mergePluginScopes(
      { cors: { origins: ['a'], credentials: true }, 'request-id': {}, gone: {} },
      { cors: { origins: ['b'] }, gone: false },
      undefined,
    );
    assert.deepEqual(merged, { cors: { origins: ['b'] }, 'request-id': {} });
    assert.deepEqual(mergePluginScopes(undefined, undefined), {});
  });
});

describe('compilePluginChain', () => {
  it('sorts by priority desc then name asc and indexes instances per phase', async () => {
    const chain = await compilePluginChain(
      entries(syncAll('b-low', 1), tracer('only-log', 5, (t) => ({ onLog: t })), syncAll('z-high', 100), syncAll('a-low', 1)),
      fakeEnv(),
    );
    assert.deepEqual(chain.names, ['z-high', 'only-log', 'a-low', 'b-low']);
    assert.equal(chain.onRequest.length, 3);
    assert.equal(chain.onLog.length, 4);
    assert.equal(chain.onResponseBody.length, 0);
    assert.equal(chain.nameOf(chain.onRequest[0]!), 'z-high');
    assert.ok(Object.isFrozen(chain.onRequest));
  });

  it('validates configs (defaults applied) and reports every problem with its path', async () => {
    let seen: unknown;
    const withDefaults = definePlugin({
      name: 'with-defaults',
      priority: 0,
      schema: Type.Object({ n: Type.Optional(Type.Integer({ default: 7 })) }, { additionalProperties: false }),
      create: (config) => {
        seen = config;
        return {};
      },
    });
    await compilePluginChain([{ definition: withDefaults, config: null }], fakeEnv());
    assert.deepEqual(seen, { n: 7 });
    await assert.rejects(
      compilePluginChain(
        [
          { definition: withDefaults, config: { n: 'x' }, path: 'routes[1].plugins.with-defaults' },
          { definition: syncAll('other', 0), config: { extra: 1 } },
        ],
        fakeEnv(),
      ),
      (e: unknown) =>
        e instanceof GatewayError &&
        e.code === 'SLUICE_ERR_CONFIG_INVALID' &&
        /^routes\[1\]\.plugins\.with-defaults\.n: Expected integer$/m.test(e.detail!) &&
        /^plugins\.other\.extra: Unexpected property$/m.test(e.detail!),
    );
  });

  it('rejects the same plugin listed twice', async () => {
    const p = syncAll('twice', 0);
    await assert.rejects(compilePluginChain(entries(p, p), fakeEnv()), /listed twice/);
  });

  it('closes created instances and names the path when a create() fails', async () => {
    const closed: string[] = [];
    const ok = definePlugin({ name: 'ok', priority: 0, schema: Empty, create: () => ({ close: async () => void closed.push('ok') }) });
    const bad = definePlugin({
      name: 'bad',
      priority: 0,
      schema: Empty,
      create: () => {
        throw new PluginConfigError('set.connection', 'is hop-by-hop');
      },
    });
    const boom = definePlugin({ name: 'boom', priority: 0, schema: Empty, create: async () => Promise.reject(new Error('no db')) });
    await assert.rejects(
      compilePluginChain([...entries(ok, boom), { definition: bad, config: {}, path: 'routes[0].plugins.bad' }], fakeEnv()),
      (e: unknown) =>
        e instanceof GatewayError &&
        e.detail === 'routes[0].plugins.bad.set.connection: is hop-by-hop\nplugins.boom: plugin create() failed: no db',
    );
    assert.deepEqual(closed, ['ok']);
  });

  it('close() closes every instance once and logs failures instead of throwing', async () => {
    const closed: string[] = [];
    const logger = recordingLogger();
    const a = definePlugin({ name: 'a', priority: 0, schema: Empty, create: () => ({ close: async () => void closed.push('a') }) });
    const b = definePlugin({ name: 'b', priority: 0, schema: Empty, create: () => ({ close: async () => Promise.reject(new Error('x')) }) });
    const chain = await compilePluginChain(entries(a, b), fakeEnv({ logger }));
    await Promise.all([chain.close(), chain.close()]);
    assert.deepEqual(closed, ['a']);
    assert.equal(logger.records.filter((r) => r.msg === 'plugin close() failed').length, 1);
  });
});

describe('runners', () => {
  it('run an all-sync chain synchronously, in order', async () => {
    const chain = await compilePluginChain(entries(syncAll('b', 1), syncAll('a', 2)), fakeEnv());
    const ctx = fakeContext();
    assert.equal(runOnRequest(chain, ctx), undefined);
    assert.equal(runOnUpstreamRequest(chain, ctx, fakeUpstreamRequest()), undefined);
    assert.equal(runOnResponse(chain, ctx, fakeUpstreamResponse()), undefined);
    runOnLog(chain, ctx, undefined, recordingLogger());
    assert.deepEqual(trace(ctx), ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    assert.equal(runOnRequest(EMPTY_CHAIN, ctx), undefined);
  });

  it('stop at the first direct response (sync)', async () => {
    const answer: DirectResponse = { status: 401, body: 'no' };
    const chain = await compilePluginChain(
      entries(tracer('deny', 10, (t) => ({ onRequest: (ctx) => (t(ctx), answer) })), syncAll('later', 1)),
      fakeEnv(),
    );
    const ctx = fakeContext();
    assert.equal(runOnRequest(chain, ctx), answer);
    assert.deepEqual(trace(ctx), ['deny']);
  });

  it('switch to async from the first hook that returns a promise', async () => {
    const answer: DirectResponse = { status: 429 };
    const asyncHook = (name: string, result?: DirectResponse) =>
      tracer(name, 0, (t) => ({
        onRequest: async (ctx) => (t(ctx), result),
        onUpstreamRequest: async (ctx) => t(ctx),
        onResponse: async (ctx) => t(ctx),
      }));
    const chain = await compilePluginChain(entries(syncAll('s1', 10), asyncHook('async', undefined), syncAll('s2', -1)), fakeEnv());
    const ctx = fakeContext();
    const pending = runOnRequest(chain, ctx);
    assert.ok(pending instanceof Promise);
    assert.deepEqual(trace(ctx), ['s1', 'async']);
    assert.equal(await pending, undefined);
    const upstream = runOnUpstreamRequest(chain, ctx, fakeUpstreamRequest());
    assert.ok(upstream instanceof Promise);
    await upstream;
    assert.deepEqual(trace(ctx)!.slice(-3), ['s1', 'async', 's2']);
    await runOnResponse(chain, ctx, fakeUpstreamResponse());
    assert.deepEqual(trace(ctx)!.slice(-3), ['s1', 'async', 's2']);

    const denying = await compilePluginChain(entries(asyncHook('deny-async', answer), syncAll('never', -1)), fakeEnv());
    const ctx2 = fakeContext();
    assert.equal(await runOnRequest(denying, ctx2), answer);
    assert.deepEqual(trace(ctx2), ['deny-async']);
  });

  it('propagate errors thrown or rejected by hooks', async () => {
    const err = new GatewayError('SLUICE_ERR_BAD_REQUEST');
    const thrower = definePlugin({ name: 't', priority: 0, schema: Empty, create: () => ({ onRequest: () => { throw err; } }) });
    const rejecter = definePlugin({ name: 'r', priority: 0, schema: Empty, create: () => ({ onResponse: async () => Promise.reject(err) }) });
    const chain = await compilePluginChain(entries(thrower, rejecter), fakeEnv());
    assert.throws(() => runOnRequest(chain, fakeContext()), (e) => e === err);
    await assert.rejects(async () => runOnResponse(chain, fakeContext(), fakeUpstreamResponse()), (e) => e === err);
  });

  it('runOnLog never throws: it logs each failing hook and runs the rest', async () => {
    const logger = recordingLogger();
    const failing = definePlugin({ name: 'failing', priority: 2, schema: Empty, create: () => ({ onLog: () => { throw new Error('x'); } }) });
    const asyncFailing = definePlugin({
      name: 'async-failing',
      priority: 1,
      schema: Empty,
      create: () => ({ onLog: (async () => { throw new Error('y'); }) as unknown as () => void }),
    });
    const chain = await compilePluginChain(entries(failing, asyncFailing, syncAll('after', 0)), fakeEnv());
    const ctx = fakeContext({ id: 'req-9' });
    assert.doesNotThrow(() => runOnLog(chain, ctx, new GatewayError('SLUICE_ERR_UPSTREAM_TIMEOUT'), logger));
    assert.deepEqual(trace(ctx), ['after']);
    await new Promise((resolve) => setImmediate(resolve));
    const failures = logger.records.filter((r) => r.msg === 'plugin onLog failed');
    assert.deepEqual(failures.map((r) => (r.obj as { plugin: string }).plugin), ['failing', 'async-failing']);
    assert.equal((failures[0]!.obj as { requestId: string }).requestId, 'req-9');
  });
});
