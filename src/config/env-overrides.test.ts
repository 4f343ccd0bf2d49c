import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEnvOverrides, ENV_OVERRIDES } from './env-overrides.ts';
import { ConfigError } from './issues.ts';

const base = () => ({ listeners: [{ name: 'public', port: 8080 }], admin: { port: 9901 } });

describe('applyEnvOverrides', () => {
  it('sets each documented variable at its path, parsing numbers and booleans', () => {
    const env = {
      SLUICE_LOG_LEVEL: 'debug',
      SLUICE_ACCESS_LOG: 'false',
      SLUICE_ADMIN_ENABLED: 'TRUE',
      SLUICE_ADMIN_HOST: '0.0.0.0',
      SLUICE_ADMIN_PORT: '9000',
      SLUICE_LISTEN_HOST: '127.0.0.1',
      SLUICE_LISTEN_PORT: '0',
      SLUICE_METRICS: 'off',
    };
    assert.deepEqual(applyEnvOverrides(base(), env), {
      listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
      admin: { port: 9000, enabled: true, host: '0.0.0.0' },
      observability: { logLevel: 'debug', accessLog: false, metrics: { enabled: false } },
    });
  });

  it('switches an access log given as settings on or off without dropping them', () => {
    const raw = { ...base(), observability: { accessLog: { format: 'combined' } } };
    assert.deepEqual(applyEnvOverrides(raw, { SLUICE_ACCESS_LOG: 'false' }), {
      ...base(),
      observability: { accessLog: { format: 'combined', enabled: false } },
    });
  });

  it('leaves the config alone without variables, and ignores empty ones', () => {
    assert.deepEqual(applyEnvOverrides(base(), { SLUICE_ADMIN_PORT: '', OTHER: 'x' }), base());
  });

  it('creates a first listener named "default" when the config has none', () => {
    assert.deepEqual(applyEnvOverrides({}, { SLUICE_LISTEN_PORT: '8080' }), { listeners: [{ name: 'default', port: 8080 }] });
  });

  it('reports every invalid variable by name, at the path it targets', () => {
    const env = { SLUICE_ADMIN_PORT: '70000', SLUICE_ACCESS_LOG: 'maybe', SLUICE_LOG_LEVEL: 'verbose', SLUICE_LISTEN_PORT: '80a' };
    let issues: unknown;
    assert.throws(() => applyEnvOverrides(base(), env), (err) => err instanceof ConfigError && Boolean((issues = err.issues)));
    assert.deepEqual(issues, [
      { path: '/observability/logLevel', message: 'SLUICE_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"' },
      { path: '/observability/accessLog', message: 'SLUICE_ACCESS_LOG: expected true or false, got "maybe"' },
      { path: '/admin/port', message: 'SLUICE_ADMIN_PORT: expected a port number 0-65535, got "70000"' },
      { path: '/listeners/0/port', message: 'SLUICE_LISTEN_PORT: expected a port number 0-65535, got "80a"' },
    ]);
  });

  it('does not touch shapes it cannot write into (validation reports those)', () => {
    assert.equal(applyEnvOverrides(null, { SLUICE_ADMIN_PORT: '1' }), null);
    assert.deepEqual(applyEnvOverrides({ admin: 'off' }, { SLUICE_ADMIN_PORT: '1' }), { admin: 'off' });
    assert.deepEqual(applyEnvOverrides({ listeners: ['x'] }, { SLUICE_LISTEN_PORT: '1' }), { listeners: ['x'] });
  });

  it('documents a fixed table of SLUICE_* variables', () => {
    assert.ok(ENV_OVERRIDES.every((o) => o.variable.startsWith('SLUICE_') && o.path.startsWith('/')));
  });
});
