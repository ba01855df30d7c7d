export { estimateUpstreamRequests } from './estimate.js';
export { createUpstreamBudgetPlugin, DEFAULT_MAX_RESULT_VALUES } from './plugin.js';
export {
  answersInFlightError,
  callerAnswerShare,
  createAnswerBudget,
  DEFAULT_MAX_RESULT_VALUES_IN_FLIGHT,
  type AnswerBudget,
  type SharedAnswerBudget,
} from './answers-in-flight.js';
