export { permissionPlugin, type PermissionPluginOptions } from './plugin.js';
export { withPermissionGuards } from './resolver-guard.js';
export {
  assertCallerMay,
  assertPermissionDirectives,
  forbiddenError,
  missingPermissions,
  requiredPermission,
  PERMISSION_DIRECTIVE,
  type MissingPermission,
} from './requirements.js';
