export { createOperationLimitsPlugin } from './plugin.js';
export { createLimitRules } from './rules.js';
export { suggestionMaskPlugin } from './suggestions.js';
export { createFieldRepetitionCheck, fieldRepetition, MAX_FIELD_PAIRS } from './repeated-fields.js';
