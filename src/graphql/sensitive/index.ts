export { SENSITIVE_DIRECTIVE, isSensitive, sensitiveFieldsOf, type SensitiveFields } from './directive.js';
export { sensitiveDataPlugin } from './plugin.js';
export { REDACTED, createRedactor, redactSyntaxError } from './redaction.js';
export { secretsOfRequest } from './secrets.js';
