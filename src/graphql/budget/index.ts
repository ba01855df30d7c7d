export { estimateUpstreamRequests, type EstimateInput, type UpstreamEstimate } from './estimate.js';
export { createUpstreamBudgetPlugin, type UpstreamBudgetOptions } from './plugin.js';
export { DEFAULT_PLANNING_TUNABLES, PLANNING_RULES, type PlanningRule, type PlanningTunables } from './planning-rules.js';
