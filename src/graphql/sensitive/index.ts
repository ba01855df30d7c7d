export { sensitiveFieldsOf } from './directive.js';
export { sensitiveDataPlugin } from './plugin.js';
export { REDACTED, WITHHELD } from './redaction.js';
export { MAX_REDACTED_SECRET_CHARS, MAX_REDACTED_SECRETS } from './secrets.js';
