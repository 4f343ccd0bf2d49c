import { ObservabilitySchema } from './schema/index.ts';
import { ConfigError, type ConfigIssue } from './issues.ts';

type Kind = 'string' | 'boolean' | 'port' | 'log-level';

export interface EnvOverride {
  variable: string;
  /** JSON Pointer of the setting it replaces. */
  path: string;
  kind: Kind;
  description: string;
}

const LOG_LEVELS: string[] = ObservabilitySchema.properties.logLevel.anyOf.map((l) => l.const);

/**
 * The fixed set of SLUICE_* variables that override config values (after `${VAR}` substitution,
 * before validation). A fixed table rather than a generic SLUICE_A__B scheme: each entry is
 * documented and typed, and a typo in a variable name cannot silently rewrite the config.
 */
export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { variable: 'SLUICE_LOG_LEVEL', path: '/observability/logLevel', kind: 'log-level', description: 'Log level' },
  { variable: 'SLUICE_ACCESS_LOG', path: '/observability/accessLog', kind: 'boolean', description: 'Access log on/off' },
  { variable: 'SLUICE_METRICS', path: '/observability/metrics/enabled', kind: 'boolean', description: 'Per-request metrics on/off' },
  { variable: 'SLUICE_ADMIN_ENABLED', path: '/admin/enabled', kind: 'boolean', description: 'Serve the admin listener' },
  { variable: 'SLUICE_ADMIN_HOST', path: '/admin/host', kind: 'string', description: 'Admin bind address' },
  { variable: 'SLUICE_ADMIN_PORT', path: '/admin/port', kind: 'port', description: 'Admin port' },
  { variable: 'SLUICE_LISTEN_HOST', path: '/listeners/0/host', kind: 'string', description: 'Bind address of the first listener' },
  { variable: 'SLUICE_LISTEN_PORT', path: '/listeners/0/port', kind: 'port', description: 'Port of the first listener' },
];

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function parseValue(kind: Kind, text: string): { value: unknown } | { error: string } {
  const t = text.trim();
  switch (kind) {
    case 'string':
      return { value: t };
    case 'boolean':
      if (TRUE.has(t.toLowerCase())) return { value: true };
      if (FALSE.has(t.toLowerCase())) return { value: false };
      return { error: `expected true or false, got ${JSON.stringify(text)}` };
    case 'port': {
      const n = /^[0-9]+$/.test(t) ? Number(t) : NaN;
      return n >= 0 && n <= 65535 ? { value: n } : { error: `expected a port number 0-65535, got ${JSON.stringify(text)}` };
    }
    case 'log-level':
      return LOG_LEVELS.includes(t) ? { value: t } : { error: `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}` };
  }
}

/**
 * Sets a value at a pointer, creating missing objects (a missing first listener gets the name
 * "default"). Leaves non-object values alone: validation reports them with their path.
 */
function setAt(root: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('/').slice(1);
  let node: unknown = root;
  for (const [i, key] of keys.entries()) {
    if (node === null || typeof node !== 'object') return;
    const container = node as Record<string, unknown>;
    if (i === keys.length - 1) {
      const existing = container[key];
      // `accessLog: { format: combined }` with SLUICE_ACCESS_LOG=false keeps its settings, switched off.
      if (typeof value === 'boolean' && existing !== null && typeof existing === 'object' && !Array.isArray(existing)) {
        (existing as Record<string, unknown>).enabled = value;
      } else container[key] = value;
    }
    else if (container[key] === undefined) container[key] = /^[0-9]+$/.test(keys[i + 1]!) ? [] : {};
    if (Array.isArray(container[key]) && (container[key] as unknown[])[0] === undefined) {
      (container[key] as unknown[])[0] = { name: 'default' };
    }
    node = container[key];
  }
}

/**
 * Applies the SLUICE_* overrides in `ENV_OVERRIDES` to a parsed config (in place; returned for
 * chaining). Empty variables count as unset. Throws ConfigError naming each invalid variable.
 */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw; // validation reports it
  const root = raw as Record<string, unknown>;
  const issues: ConfigIssue[] = [];
  for (const override of ENV_OVERRIDES) {
    const text = env[override.variable];
    if (text === undefined || text === '') continue;
    const parsed = parseValue(override.kind, text);
    if ('error' in parsed) issues.push({ path: override.path, message: `${override.variable}: ${parsed.error}` });
    else setAt(root, override.path, parsed.value);
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return raw;
}
