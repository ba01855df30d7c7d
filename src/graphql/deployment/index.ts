export { deploymentModeRule } from './rule.js';
