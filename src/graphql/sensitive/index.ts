export { sensitiveFieldsOf } from './directive.js';
export { sensitiveDataPlugin } from './plugin.js';
export { REDACTED } from './redaction.js';
