export { deploymentModeRule, requiredDeploymentMode, unsupportedDeploymentModeError, DEPLOYMENT_DIRECTIVE } from './rule.js';
