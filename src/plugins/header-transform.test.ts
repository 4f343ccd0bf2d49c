import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { HeaderList } from '../runtime/headers.ts';
import { applyHeaderOps, compileHeaderOps, hasHeaderOps, headerOpsProperties } from './header-transform.ts';
import { fakeContext } from './test-helpers.ts';
import { PluginConfigError } from './types.ts';

const Schema = Type.Object(headerOpsProperties(), { additionalProperties: false });
const policy = { allowHostSet: true, env: {} };

describe('header ops schema', () => {
  it('accepts token names and printable values', () => {
    assert.equal(Value.Check(Schema, { set: { 'X-A': 'v\tw' }, add: { 'x-b': ['1', '2'] }, remove: ['x-c'], rename: { a: 'b' } }), true);
  });

  it('rejects names that are not tokens and values with CR, LF, NUL or other controls', () => {
    for (const bad of [
      { set: { 'x a': 'v' } },
      { set: { 'x:a': 'v' } },
      { set: { '': 'v' } },
      { set: { 'x-a': 'v\r\nInjected: 1' } },
      { set: { 'x-a': 'v\u0000' } },
      { add: { 'x-a': ['ok', 'v\n'] } },
      { remove: ['bad name'] },
      { rename: { a: 'b c' } },
      { other: {} },
    ]) {
      assert.equal(Value.Check(Schema, bad), false, JSON.stringify(bad));
    }
  });
});

describe('compileHeaderOps', () => {
  const fails = (config: object, path: string, message: RegExp, p = policy) =>
    assert.throws(
      () => compileHeaderOps(config, p),
      (e: unknown) => e instanceof PluginConfigError && e.path === path && message.test(e.message),
    );

  it('refuses hop-by-hop and framing headers wherever they appear', () => {
    fails({ set: { Connection: 'close' } }, 'set.Connection', /hop-by-hop or framing/);
    fails({ add: { 'transfer-encoding': 'chunked' } }, 'add.transfer-encoding', /hop-by-hop/);
    fails({ remove: ['x-ok', 'Content-Length'] }, 'remove[1]', /hop-by-hop/);
    fails({ rename: { 'x-a': 'upgrade' } }, 'rename.x-a', /hop-by-hop/);
    fails({ rename: { te: 'x-te' } }, 'rename.te', /hop-by-hop/);
  });

  it('allows Host in set only, and only when the policy says so', () => {
    assert.doesNotThrow(() => compileHeaderOps({ set: { Host: 'internal.svc' } }, policy));
    fails({ add: { host: 'x' } }, 'add.host', /only be changed with "set"/);
    fails({ remove: ['host'] }, 'remove[0]', /only be changed with "set"/);
    fails({ set: { host: 'x' } }, 'set.host', /cannot be changed here/, { allowHostSet: false, env: {} });
  });

  it('reports template errors at the exact path', () => {
    fails({ set: { 'x-a': '${nope}' } }, 'set.x-a', /unknown template variable/);
    fails({ add: { 'x-a': ['ok', '${env.MISSING}'] } }, 'add.x-a[1]', /MISSING .* is not set/);
  });

  it('knows when there is nothing to do', () => {
    assert.equal(hasHeaderOps(compileHeaderOps({}, policy)), false);
    assert.equal(hasHeaderOps(compileHeaderOps({ remove: ['x'] }, policy)), true);
  });
});

describe('applyHeaderOps', () => {
  it('applies rename → remove → set → add', () => {
    const ops = compileHeaderOps(
      {
        rename: { 'X-Old': 'x-new', 'x-drop-me': 'x-dropped' },
        remove: ['x-dropped', 'x-secret'],
        set: { 'x-new': 'set-${method}', 'x-empty': '${header.x-absent}' },
        add: { 'x-new': 'added', 'x-multi': ['1', '${header.x-absent}', '2'] },
      },
      policy,
    );
    const headers = new HeaderList(['x-old', 'a', 'X-Secret', 's', 'x-drop-me', 'd', 'x-empty', 'old', 'keep', 'k']);
    applyHeaderOps(ops, headers, fakeContext({ method: 'PUT' }));
    assert.deepEqual(headers.raw, ['keep', 'k', 'x-new', 'set-PUT', 'x-new', 'added', 'x-multi', '1', 'x-multi', '2']);
  });
});
