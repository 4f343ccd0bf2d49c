import type { TSchema } from '@sinclair/typebox';
import type { PluginDefinition } from '../plugins/types.ts';
import { ENV_OVERRIDES } from './env-overrides.ts';
import { renderJsonSchema } from './json-schema.ts';
import { ConfigSchema } from './schema/index.ts';

interface Row {
  key: string;
  type: string;
  required: boolean;
  default: unknown;
  description: string;
}

type Props = Record<string, TSchema>;
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function typeOf(s: TSchema): string {
  if (s['x-kind'] === 'duration' || s['x-kind'] === 'size') return s['x-kind'];
  if (s['x-secret'] === true) return 'secret';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).map(typeOf).join(' \\| ');
  if (s.type === 'array') return `list of ${typeOf(s.items as TSchema)}`;
  if (s.type === 'object' && isObj(s.patternProperties)) return 'map';
  if (s.type === 'integer' && (s.minimum !== undefined || s.maximum !== undefined)) {
    return `integer (${s.minimum ?? ''}–${s.maximum ?? ''})`;
  }
  return String(s.type ?? 'any');
}

/** Rows for every key of an object schema, depth first; list items are written `key[].child`. */
function rowsOf(schema: TSchema, prefix: string, out: Row[]): Row[] {
  const required = new Set<string>(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  for (const [name, prop] of Object.entries((schema.properties ?? {}) as Props)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    const description = String(prop.description ?? (prop.type === 'array' ? (prop.items as TSchema).description ?? '' : ''));
    // Defaults are applied before validation, so a defaulted key never has to be written.
    const isRequired = required.has(name) && prop.default === undefined;
    out.push({ key, type: typeOf(prop), required: isRequired, default: prop.default, description });
    if (isObj(prop.properties)) rowsOf(prop, key, out);
    else if (prop.type === 'array' && isObj((prop.items as TSchema).properties)) rowsOf(prop.items as TSchema, `${key}[]`, out);
  }
  return out;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(rows: Row[]): string[] {
  const lines = ['| Key | Type | Required | Default | Description |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    const def = r.default === undefined ? '' : `\`${cell(JSON.stringify(r.default))}\``;
    lines.push(`| \`${r.key}\` | ${r.type} | ${r.required ? 'yes' : ''} | ${def} | ${cell(r.description)} |`);
  }
  return lines;
}

const INTRO = [
  '# Sluice configuration reference',
  '',
  '<!-- Generated from src/config/schema/ by `npm run schema`. Do not edit by hand. -->',
  '',
  'A config file is YAML (`.yaml`, `.yml`) or JSON (`.json`). Its JSON Schema is published as',
  '`schema/sluice.schema.json` (package export `sluice/schema.json`); `sluice validate -c FILE` reports every',
  'error with its JSON path.',
  '',
  '- **duration**: milliseconds as an integer, or a string `"500ms"`, `"30s"`, `"5m"`, `"1h"`.',
  '- **size**: bytes as an integer, or a string `"512b"`, `"16kb"`, `"10mb"`, `"1gb"` (powers of 1024).',
  '- **secret**: a string, or `{ file: path }` whose content (trailing newlines trimmed) is the value; relative',
  '  paths are relative to the config file. Secrets are redacted in `GET /admin/config`.',
  '- **`${VAR}` substitution**: `${VAR}` and `${VAR:-default}` (default when unset or empty) are expanded in',
  '  string values after parsing, so a variable cannot inject structure; `$${` is a literal `${`. An unset',
  '  variable without a default is an error. In YAML, an unquoted value that is exactly one reference',
  '  (`port: ${PORT}`) is read as a number or boolean when it looks like one; quoted values stay strings.',
  '- Plugin maps (`plugins.global`, `routes[].plugins`, `consumers[].plugins`) map a plugin name to its config;',
  '  an empty value (`cors:`) means the plugin\'s defaults.',
];

function envSection(): string[] {
  const lines = [
    '## Environment overrides',
    '',
    'These variables override the setting at the given path, after `${VAR}` substitution and before',
    'validation. Empty values are ignored. Booleans accept `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).',
    'If the config has no listener, `SLUICE_LISTEN_*` create one named `default`.',
    '',
    '| Variable | Setting | Description |',
    '| --- | --- | --- |',
  ];
  for (const o of ENV_OVERRIDES) lines.push(`| \`${o.variable}\` | \`${o.path}\` | ${o.description} (${o.kind}) |`);
  return lines;
}

function pluginSections(plugins: readonly PluginDefinition[]): string[] {
  const lines = ['## Plugins', ''];
  if (plugins.length === 0) lines.push('No built-in plugins are registered.');
  for (const p of [...plugins].sort((a, b) => a.name.localeCompare(b.name))) {
    const about = cell(`${p.description ?? String(p.schema.description ?? '')} Priority ${p.priority}.`.trim());
    lines.push(`### \`${p.name}\``, '', about, '');
    const rows = rowsOf(p.schema, '', []);
    lines.push(...(rows.length > 0 ? table(rows) : ['No configuration: use `{}`.']), '');
  }
  return lines;
}

/** The Markdown reference of every config key, the SLUICE_* overrides and each plugin's config. */
export function renderReference(plugins: readonly PluginDefinition[] = []): string {
  const root = ConfigSchema as TSchema;
  const lines = [...INTRO, '', '## Top level', ''];
  const top = Object.entries(root.properties as Props).filter(([name]) => name !== '$schema');
  const required = new Set(root.required as string[]);
  const topRows = top.map(([key, s]) => ({ key, type: typeOf(s), required: required.has(key), default: s.default, description: String(s.description ?? '') }));
  lines.push(...table(topRows), '');
  for (const [name, s] of top) {
    const item = s.type === 'array' ? (s.items as TSchema) : s;
    if (!isObj(item.properties)) continue;
    lines.push(`## \`${name}\``, '', ...table(rowsOf(item, s.type === 'array' ? `${name}[]` : name, [])), '');
  }
  lines.push(...envSection(), '', ...pluginSections(plugins));
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Generated files by path (relative to the package root); `npm run schema` writes them, a test compares. */
export function generatedArtifacts(plugins: readonly PluginDefinition[]): Record<string, string> {
  return {
    'schema/sluice.schema.json': renderJsonSchema(plugins),
    'docs/config-reference.md': renderReference(plugins),
  };
}
