import type { PluginDefinition } from '../types.ts';
import { corsPlugin } from './cors/index.ts';
import { faultInjectionPlugin } from './fault-injection/index.ts';
import { requestHeadersPlugin } from './request-headers/index.ts';
import { requestIdPlugin } from './request-id/index.ts';
import { responseHeadersPlugin } from './response-headers/index.ts';

export { corsPlugin, faultInjectionPlugin, requestHeadersPlugin, requestIdPlugin, responseHeadersPlugin };

/** Every plugin that ships with the gateway; third-party ones join them in the registry. */
export const builtinPlugins: readonly PluginDefinition[] = Object.freeze([
  requestIdPlugin,
  requestHeadersPlugin,
  responseHeadersPlugin,
  corsPlugin,
  faultInjectionPlugin,
] as PluginDefinition[]);
