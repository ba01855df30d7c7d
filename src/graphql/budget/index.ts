export { estimateUpstreamRequests } from './estimate.js';
export { createUpstreamBudgetPlugin, DEFAULT_MAX_RESULT_VALUES } from './plugin.js';
