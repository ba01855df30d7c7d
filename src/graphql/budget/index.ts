export { estimateUpstreamRequests } from './estimate.js';
export { createUpstreamBudgetPlugin } from './plugin.js';
