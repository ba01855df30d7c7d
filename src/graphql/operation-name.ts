import { auditOperationName } from '../audit/event.js';

/**
 * An operation's name as log lines and trace spans carry it: the same rule as audit events
 * (`auditOperationName`, docs/security.md#operation-names-in-audit-events), so the three never
 * disagree on a request. A GraphQL name has no length limit of its own (MAX_TOKENS counts it as
 * one token): a name past 64 characters, or one that looks like a credential, is left out (null)
 * rather than carried into every line and span of the caller's requests.
 */
export function operationNameForLog(name: string | null | undefined): string | null {
  return auditOperationName(name);
}
