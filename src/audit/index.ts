export { createAuditLog } from './log.js';
export { auditPlugin } from './plugin.js';
