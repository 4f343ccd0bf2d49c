import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loggingIssues } from './logging-checks.ts';
import { ConfigSchema } from './schema/index.ts';
import { redactSecrets, resolveSecrets } from './secrets.ts';
import { validateConfig } from './validate.ts';

const config = (sinks: unknown[]) => ({
  listeners: [{ name: 'public', port: 8080 }],
  upstreams: [{ name: 'api', targets: [{ url: 'http://127.0.0.1:3000' }] }],
  routes: [{ name: 'api', match: { paths: ['/api/*'] }, upstream: 'api' }],
  observability: { sinks },
});
const issues = (sinks: unknown[], env: NodeJS.ProcessEnv = {}) => loggingIssues(config(sinks), env).map((i) => `${i.path}: ${i.message}`);

describe('log sink checks', () => {
  it('reports sinks that cannot work with their JSON path', () => {
    assert.deepEqual(issues([{ type: 'elasticsearch', url: 'http://es', index: 'i', apiKey: 'k', username: 'u', password: 'p' }]), [
      '/observability/sinks/0/apiKey: use either apiKey or username/password, not both',
    ]);
    assert.deepEqual(issues([{ type: 'elasticsearch', url: 'http://es', index: 'i', username: 'u' }]), [
      '/observability/sinks/0/password: missing required property "password" (needed with "username")',
    ]);
    assert.deepEqual(issues([{ type: 'stdout' }, { type: 'cloudwatch', region: 'eu-west-1', logGroup: 'g', logStream: 's' }]), [
      '/observability/sinks/1: no AWS credentials: set accessKeyId and secretAccessKey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment',
    ]);
    assert.deepEqual(issues([{ type: 'cloudwatch', region: 'eu-west-1', logGroup: 'g', logStream: 's', accessKeyId: 'a' }]), [
      '/observability/sinks/0/secretAccessKey: accessKeyId and secretAccessKey go together',
    ]);
    assert.deepEqual(issues([{ type: 'file', path: 'a.log' }, { type: 'file', path: 'a.log', name: 'other' }, { type: 'stdout' }, { type: 'stdout', name: 'again' }]), [
      '/observability/sinks/1/path: file "a.log" is already written by /observability/sinks/0; two sinks cannot share a rotating file',
      '/observability/sinks/3: stdout is already a sink (/observability/sinks/2): every line would be written twice',
    ]);
    assert.deepEqual(issues([{ type: 'http', url: 'http://a' }, { type: 'splunk', name: 'http', url: 'http://b', token: 't' }]), [
      '/observability/sinks/1/name: duplicate sink name "http" (first at /observability/sinks/0); give each sink its own "name"',
    ]);
  });

  it('accepts credentials from the environment and well-formed sinks', () => {
    const env = { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' };
    assert.deepEqual(issues([{ type: 'cloudwatch', region: 'eu-west-1', logGroup: 'g', logStream: 's' }], env), []);
    assert.deepEqual(issues([{ type: 'elasticsearch', url: 'http://es', index: 'i', username: 'u', password: { file: 'p' } }, { type: 'file', path: 'b.log' }]), []);
  });

  it('runs as part of config validation', () => {
    const result = validateConfig(config([{ type: 'elasticsearch', url: 'http://es', index: 'i', apiKey: 'k', username: 'u' }]), { plugins: new Map() });
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.errors.map((e) => e.path), ['/observability/sinks/0/apiKey']);
  });

  it('sink secrets resolve from files like every other secret and are redacted for display', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-sink-secrets-'));
    try {
      await writeFile(join(dir, 'token'), 'hec-token-from-file\n');
      await writeFile(join(dir, 'auth'), 'Bearer from-file\n');
      const raw = config([
        { type: 'splunk', url: 'http://splunk', token: { file: 'token' } },
        { type: 'http', url: 'http://h', headers: { authorization: { file: 'auth' } } },
        { type: 'elasticsearch', url: 'http://es', index: 'i', username: 'u', password: 'literal-pw' },
      ]);
      const valid = validateConfig(raw, { plugins: new Map() });
      assert.ok(valid.ok);
      const { config: resolved } = await resolveSecrets(valid.config, ConfigSchema, dir);
      const sinks = resolved.observability!.sinks! as Record<string, unknown>[];
      assert.equal(sinks[0]!.token, 'hec-token-from-file');
      assert.deepEqual(sinks[1]!.headers, { authorization: 'Bearer from-file' });
      const shown = JSON.stringify(redactSecrets(resolved, ConfigSchema));
      for (const s of ['hec-token-from-file', 'from-file', 'literal-pw']) assert.ok(!shown.includes(s), `${s} shown`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
