/**
 * Writes schema/sluice.schema.json and docs/config-reference.md from the TypeBox schema and the
 * built-in plugins. `--check` only compares and exits 1 when a file is stale (CI).
 * Usage: npm run schema [-- --check]
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedArtifacts } from '../src/config/reference-doc.ts';
import { builtinPlugins } from '../src/plugins/builtin/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function main(check: boolean): Promise<number> {
  const artifacts = generatedArtifacts(builtinPlugins);
  let stale = 0;
  for (const [rel, text] of Object.entries(artifacts)) {
    const file = join(root, rel);
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current === text) continue;
    stale++;
    if (check) {
      process.stderr.write(`${rel} is out of date: run npm run schema\n`);
    } else {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text);
      process.stdout.write(`wrote ${rel}\n`);
    }
  }
  return check && stale > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.includes('--check'));
