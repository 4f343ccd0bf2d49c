import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, type ConfigIssue } from './issues.ts';
import { formatOf, loadConfigFile, loadConfigText } from './load.ts';

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

async function issuesOfAsync(promise: Promise<unknown>): Promise<{ code: string; issues: ConfigIssue[] }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ConfigError) return { code: err.code, issues: err.issues };
    throw err;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfigText: ${VAR} substitution', () => {
  const env = { HOST: 'example.com', PORT: '8080', EMPTY: '', FLAG: 'true', TRICK: '{ a: 1 }\nb: 2' };

  it('expands variables and defaults inside strings', () => {
    const text = 'a: http://${HOST}:${PORT}/x\nb: ${MISSING:-fallback}\nc: ${EMPTY:-used-when-empty}\nd: "${EMPTY}"';
    assert.deepEqual(loadConfigText(text, 'yaml', { env }), { a: 'http://example.com:8080/x', b: 'fallback', c: 'used-when-empty', d: '' });
  });

  it('reads an unquoted whole reference as a number or boolean, quoted ones stay strings', () => {
    const text = 'port: ${PORT}\nflag: ${FLAG}\nquoted: "${PORT}"\nsingle: \'${PORT}\'\nmixed: ${PORT}0x\ndef: ${NOPE:-42}';
    assert.deepEqual(loadConfigText(text, 'yaml', { env }), { port: 8080, flag: true, quoted: '8080', single: '8080', mixed: '80800x', def: 42 });
  });

  it('never lets a value inject structure', () => {
    assert.deepEqual(loadConfigText('x: ${TRICK}', 'yaml', { env }), { x: '{ a: 1 }\nb: 2' });
  });

  it('keeps $${ as a literal ${ and leaves keys alone', () => {
    assert.deepEqual(loadConfigText('"${HOST}": $${HOST} and $$ and $x', 'yaml', { env }), { '${HOST}': '${HOST} and $$ and $x' });
  });

  it('substitutes through anchors, in sequences, and in JSON strings', () => {
    assert.deepEqual(loadConfigText('a: &h ${HOST}\nb: *h\nc: [x, "${PORT}"]', 'yaml', { env }), { a: 'example.com', b: 'example.com', c: ['x', '8080'] });
    assert.deepEqual(loadConfigText('{"a": ["${HOST}", 1], "p": "${PORT}"}', 'json', { env }), { a: ['example.com', 1], p: '8080' });
  });

  it('reports every unset variable with the JSON path where it is used', () => {
    const issues = issuesOf(() => loadConfigText('listeners:\n  - host: ${NO_HOST}\n    port: ${NO_PORT}\n"a/b": ${X Y}', 'yaml', { env }));
    assert.deepEqual(issues, [
      { path: '/listeners/0/host', message: 'environment variable NO_HOST is not set (use ${NO_HOST:-default} for a default)' },
      { path: '/listeners/0/port', message: 'environment variable NO_PORT is not set (use ${NO_PORT:-default} for a default)' },
      { path: '/a~1b', message: 'invalid variable reference "${X Y}"' },
    ]);
    assert.deepEqual(issuesOf(() => loadConfigText('{"k": ["${OPEN"]}', 'json', { env })), [
      { path: '/k/0', message: 'unterminated "${" (write "$${" for a literal "${")' },
    ]);
  });
});

describe('loadConfigText: syntax errors', () => {
  it('gives YAML errors a file:line:column position', () => {
    const issues = issuesOf(() => loadConfigText('a: 1\nb: [1, 2\nc: 3\n', 'yaml', { sourceName: 'gw.yaml' }));
    assert.ok(issues.length >= 1);
    assert.match(issues[0]!.message, /^gw\.yaml:\d+:\d+: YAML syntax error: \S/);
    assert.equal(issues[0]!.path, '');
  });

  it('rejects duplicate keys in YAML', () => {
    assert.match(issuesOf(() => loadConfigText('a: 1\na: 2', 'yaml', { sourceName: 'x' }))[0]!.message, /^x:2:1: YAML syntax error: Map keys must be unique/);
  });

  it('gives JSON errors a line:column position', () => {
    const issues = issuesOf(() => loadConfigText('{\n  "a": 1,\n  "b" 2\n}', 'json', { sourceName: 'gw.json' }));
    assert.match(issues[0]!.message, /^gw\.json:3:7: JSON syntax error: /);
  });

  it('returns null for an empty document (validation reports it)', () => {
    assert.equal(loadConfigText('', 'yaml'), null);
  });
});

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-load-'));

  it('picks the format by extension and reports baseDir and files', async () => {
    writeFileSync(join(dir, 'a.yml'), 'x: ${V}\n');
    writeFileSync(join(dir, 'b.json'), '{"x": 1}');
    const yml = await loadConfigFile(join(dir, 'a.yml'), { env: { V: 'v' } });
    assert.deepEqual(yml, { raw: { x: 'v' }, baseDir: dir, files: [join(dir, 'a.yml')] });
    assert.deepEqual((await loadConfigFile(join(dir, 'b.json'))).raw, { x: 1 });
    assert.equal(formatOf('X.YAML'), 'yaml');
    assert.equal(formatOf('x.toml'), undefined);
  });

  it('rejects unknown extensions and unreadable files as load errors', async () => {
    const ext = await issuesOfAsync(loadConfigFile(join(dir, 'c.toml')));
    assert.equal(ext.code, 'SLUICE_ERR_CONFIG_LOAD');
    assert.match(ext.issues[0]!.message, /unsupported config file extension/);
    const missing = await issuesOfAsync(loadConfigFile(join(dir, 'nope.yaml')));
    assert.match(missing.issues[0]!.message, /nope\.yaml: cannot read config file \(ENOENT\)$/);
  });
});
