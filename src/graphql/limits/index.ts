export { createOperationLimitsPlugin } from './plugin.js';
export { createLimitRules } from './rules.js';
export { suggestionMaskPlugin } from './suggestions.js';
