export * from './common.ts';
export * from './listener.ts';
export * from './resilience.ts';
export * from './upstream.ts';
export * from './route.ts';
export * from './root.ts';
export * from './observability.ts';
