export { permissionPlugin } from './plugin.js';
export { withPermissionGuards } from './resolver-guard.js';
export { assertPermissionDirectives, missingPermissions, requiredPermission } from './requirements.js';
