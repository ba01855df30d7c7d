export { auditCaller, outcomeOfSteps, type AuditAccount, type AuditCaller, type AuditEvent, type AuditOutcome, type AuditStep } from './event.js';
export { createAuditLog, type AuditLog, type AuditLogDeps } from './log.js';
export { auditLogOf, auditPlugin, bindAuditLog, publicCodeOf, type AuditPluginDeps } from './plugin.js';
