import type { TSchema } from '@sinclair/typebox';
import type { PluginDefinition } from '../plugins/types.ts';
import { applyEnvOverrides } from './env-overrides.ts';
import { ConfigError, type ConfigIssue } from './issues.ts';
import { loadConfigFile, loadConfigText, type ConfigFormat } from './load.ts';
import { ConfigSchema, type RouteConfig, type SluiceConfig } from './schema/index.ts';
import { resolveSecrets } from './secrets.ts';
import { validateConfig } from './validate.ts';
import { tlsCertificateIssues } from './tls-checks.ts';

export { ConfigError, formatIssues, pointer, suggest, type ConfigIssue } from './issues.ts';
export { loadConfigFile, loadConfigText, formatOf, substitute, type ConfigFormat, type LoadedFile, type LoadOptions } from './load.ts';
export { applyEnvOverrides, ENV_OVERRIDES, type EnvOverride } from './env-overrides.ts';
export { validateConfig, applyDefaults, type ValidateOptions, type ValidateResult } from './validate.ts';
export { resolveSecrets, redactSecrets, findSecrets, pluginMapsOf, REDACTED, type PluginSchemas } from './secrets.ts';
export { parseDuration, parseSize } from './units.ts';
export { tlsCertificateIssues } from './tls-checks.ts';

export type ConfigSource = string | { text: string; format: ConfigFormat; baseDir?: string; sourceName?: string };

export interface LoadAndValidateOptions {
  env?: NodeJS.ProcessEnv;
  plugins: ReadonlyMap<string, PluginDefinition>;
  routeChecks?: (route: RouteConfig, index: number) => ConfigIssue[];
}

export type LoadAndValidateResult =
  | { ok: true; config: SluiceConfig; errors: []; baseDir: string; files: string[] }
  | { ok: false; config: undefined; errors: ConfigIssue[]; baseDir: string; files: string[] };

export function pluginSchemasOf(plugins: ReadonlyMap<string, PluginDefinition>): Map<string, TSchema> {
  return new Map([...plugins].map(([name, definition]) => [name, definition.schema]));
}

/**
 * The whole pipeline for a file path or in-memory text: parse with `${VAR}` substitution → SLUICE_*
 * overrides → validate (defaults applied) → read secret files. Configuration problems come back as
 * `errors` (never thrown); `files` lists what was read, for watching.
 */
export async function loadAndValidate(source: ConfigSource, options: LoadAndValidateOptions): Promise<LoadAndValidateResult> {
  const env = options.env ?? process.env;
  let baseDir = typeof source === 'string' ? '' : (source.baseDir ?? process.cwd());
  let files: string[] = [];
  const fail = (errors: ConfigIssue[]): LoadAndValidateResult => ({ ok: false, config: undefined, errors, baseDir, files });
  try {
    let raw: unknown;
    if (typeof source === 'string') {
      ({ raw, baseDir, files } = await loadConfigFile(source, { env }));
    } else {
      raw = loadConfigText(source.text, source.format, { env, sourceName: source.sourceName ?? `config.${source.format}` });
    }
    const result = validateConfig(applyEnvOverrides(raw, env), { plugins: options.plugins, routeChecks: options.routeChecks });
    if (!result.ok) return fail(result.errors);
    const resolved = await resolveSecrets(result.config, ConfigSchema, baseDir, pluginSchemasOf(options.plugins));
    files = [...files, ...resolved.files];
    const tlsIssues = tlsCertificateIssues(resolved.config);
    if (tlsIssues.length > 0) return fail(tlsIssues);
    return { ok: true, config: resolved.config, errors: [], baseDir, files };
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.issues);
    throw err;
  }
}
