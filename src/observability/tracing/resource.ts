import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { ATTR_HOST_NAME, ATTR_PROCESS_PID } from './attributes.ts';
import type { ResolvedTracingConfig } from './config.ts';

let cachedVersion: string | null | undefined;

/** Sluice's own version; src/ and dist/ sit at the same depth below the package root. */
export function sluiceVersion(): string | undefined {
  if (cachedVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      cachedVersion = pkg.name === 'sluice' && typeof pkg.version === 'string' ? pkg.version : null;
    } catch {
      cachedVersion = null;
    }
  }
  return cachedVersion ?? undefined;
}

/** SDK defaults (telemetry.sdk.*) < host/process < configured attributes < service.name. */
export function buildResource(config: ResolvedTracingConfig): Resource {
  const version = sluiceVersion();
  return defaultResource().merge(
    resourceFromAttributes({
      [ATTR_HOST_NAME]: hostname(),
      [ATTR_PROCESS_PID]: process.pid,
      ...(version === undefined ? {} : { [ATTR_SERVICE_VERSION]: version }),
      ...config.resourceAttributes,
      [ATTR_SERVICE_NAME]: config.serviceName,
    }),
  );
}
