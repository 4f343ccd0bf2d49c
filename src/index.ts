export { createGateway, type Gateway, type GatewayOptions } from './gateway.ts';
export { definePlugin, type PluginDefinition, type PluginInstance, type PluginEnv, type PluginScope } from './plugins/types.ts';
export type { RequestContext, DirectResponse, UpstreamRequest, UpstreamResponse } from './runtime/context.ts';
export { HeaderList } from './runtime/headers.ts';
export { GatewayError, ERROR_CODES, type ErrorCode } from './errors/index.ts';
export type { SluiceConfig } from './config/schema/index.ts';
