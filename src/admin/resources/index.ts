import type { ControlPlane } from '../control-plane.ts';
import type { AdminRoute } from '../http/types.ts';
import { certificateAdminRoutes } from './certificates.ts';
import { configRoutes } from './config.ts';
import { entityAdminRoutes } from './entities.ts';
import { runtimeAdminRoutes } from './runtime.ts';
import { upstreamAdminRoutes } from './upstreams.ts';

/** Every admin API endpoint, built once per gateway. */
export function adminRoutes(plane: ControlPlane): AdminRoute[] {
  return [...configRoutes(plane), ...entityAdminRoutes(plane), ...upstreamAdminRoutes(plane), ...runtimeAdminRoutes(plane), ...certificateAdminRoutes(plane)];
}
