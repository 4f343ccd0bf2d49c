import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandVar, DEFAULT_COMMAND, estimateSeconds, parseBenchOptions, type BenchOptions } from './options.ts';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseBenchOptions(argv, env) as BenchOptions;

test('defaults: direct and sluice, four scenarios, about a minute of load', () => {
  const o = parse([]);
  assert.deepEqual(o.targets, ['direct', 'sluice']);
  assert.equal(o.commands.sluice, DEFAULT_COMMAND);
  assert.deepEqual(o.scenarios, ['get-small', 'get-16k', 'post-4k', 'get-small-close']);
  assert.equal(o.connections, 64);
  assert.ok(estimateSeconds(o) <= 60);
});

test('flags win over environment variables', () => {
  const o = parse(['--duration', '1', '--scenarios', 'get-small,post-4k'], { DURATION: '9', CONNS: '8', SCENARIOS: 'get-16k' });
  assert.equal(o.durationS, 1);
  assert.equal(o.connections, 8);
  assert.deepEqual(o.scenarios, ['get-small', 'post-4k']);
});

test('candidate name and command, extra targets from TARGET_CMD_<NAME>', () => {
  const o = parse([], {
    CANDIDATE_NAME: 'gw', CANDIDATE_CMD: 'node gw.js', TARGETS: 'direct gw node-bare',
    [commandVar('node-bare')]: 'node bare.js', PIN: '0',
  });
  assert.deepEqual(o.commands, { gw: 'node gw.js', 'node-bare': 'node bare.js' });
  assert.equal(o.pin, false);
  assert.equal(commandVar('node-bare'), 'TARGET_CMD_NODE_BARE');
});

test('bad input is rejected with a message', () => {
  assert.throws(() => parse(['--scenarios', 'nope']), /unknown scenario/);
  assert.throws(() => parse([], { TARGETS: 'direct other' }), /TARGET_CMD_OTHER/);
  assert.throws(() => parse([], { CONNS: '0' }), /conns/);
  assert.equal(parseBenchOptions(['--help'], {}), 'help');
});
