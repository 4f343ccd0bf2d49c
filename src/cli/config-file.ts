import { applyEnvOverrides, loadConfigFile } from '../config/index.ts';

/** Read a config file the way every command does: parse, ${ENV} substitution, SLUICE_* overrides. */
export async function readConfigFile(path: string): Promise<{ raw: unknown; baseDir: string }> {
  const loaded = await loadConfigFile(path, { env: process.env });
  return { raw: applyEnvOverrides(loaded.raw, process.env), baseDir: loaded.baseDir };
}
