import type { Caller } from '../identity/types.js';

/**
 * One audit event per mutation, allowed or refused: who did what to whom, how each Graph step
 * went and under which Graph request-ids. Shaped for a SIEM (flat JSON, closed vocabularies) and
 * built only from values that are safe to keep: ids, codes, statuses; never a token, a password,
 * a pass or an upstream body.
 */

/**
 * Outcome of the whole mutation. `partial`: some steps succeeded and some failed. `unknown`: at
 * least one write was sent and never conclusively answered, so Graph may have applied it: someone
 * must look (docs/security.md#writes-with-an-unknown-outcome).
 */
export type AuditOutcome = 'succeeded' | 'partial' | 'failed' | 'unknown' | 'refused';

/** Who called, as the gateway authenticated them (never the credential itself). */
export type AuditCaller =
  | { kind: 'anonymous' }
  | { kind: 'api-key'; keyId: string }
  /** `tenantId` is absent in hosted mode, where it is the broker's Token (docs/security.md#the-broker-token-is-a-secret). */
  | { kind: 'entra'; subject: string; tenantId?: string; principal: 'user' | 'app' }
  /** A one-time sign-in link minted by `npm run auth:login-url` (src/identity/sign-in-link.ts). */
  | { kind: 'sign-in-link'; linkId: string; issuedBy: string }
  | { kind: 'unknown' };

/** A Graph user account as the sign-in returned it: object id and sign-in name (no token). */
export interface AuditAccount {
  objectId?: string;
  username?: string;
}

export interface AuditStep {
  step: string;
  succeeded: boolean;
  /** SUCCEEDED, FAILED (Graph did not apply it) or UNKNOWN (sent, no conclusive answer). */
  outcome?: 'SUCCEEDED' | 'FAILED' | 'UNKNOWN';
  /** The gateway's `client-request-id` of the call, which Graph logs too: the trace of an UNKNOWN step. */
  clientRequestId?: string;
  /** HTTP status Graph answered, when it answered. */
  status?: number;
  /** Gateway error code of a failed step (named `errorCode`: the log redaction owns `code`). */
  errorCode?: string;
  requestId?: string;
  /** Why a step Graph applied may not have done what its name says (an external user's sessions). */
  caveat?: string;
}

/**
 * What became of a containment's record of its user, whose caller tokens issued before are then
 * refused (docs/security.md#contained-users-caller-tokens): `recorded` where this gateway keeps
 * them (the shared store of a Redis or SQLite CACHE_URL, else this process); `this-process-only`,
 * the shared store refused the write, so other processes accept those tokens; `not-recorded`, the
 * user's object id could not be looked up, so no process refuses them.
 */
export type ContainmentRecord = 'recorded' | 'this-process-only' | 'not-recorded';

export interface AuditEvent {
  /**
   * Unique per event, made by the gateway (a UUID): what a SIEM deduplicates and an investigator
   * cites. `correlationId` is not that: a caller may send its own (`x-correlation-id`), the same on
   * every request, or one copied from another caller's request.
   */
  eventId: string;
  /** ISO 8601 time the mutation finished (or was refused). */
  time: string;
  /** Mutation field name, e.g. `terminateSession`. */
  operation: string;
  /**
   * The name the document gave the operation, when it passes `auditOperationName` (a GraphQL name of
   * at most 64 characters that does not look like a credential), else null. The caller's text:
   * groups a client's requests, proves nothing. Every event is written through `auditOperationName`
   * (src/audit/log.ts).
   */
  operationName: string | null;
  outcome: AuditOutcome;
  /** Why it was refused or failed: a public error code (`UNSUPPORTED_DEPLOYMENT_MODE`, `FORBIDDEN`, ...). */
  reason?: string;
  caller: AuditCaller;
  /** The user acted on (object id or UPN as given), when known. */
  targetUser?: string;
  steps: AuditStep[];
  /**
   * Containment mutations with CALLER_AUTH=entra whose write counted (it ended the user's sessions):
   * what became of the record that refuses the user's earlier caller tokens. Absent otherwise.
   */
  containment?: ContainmentRecord;
  /** Every Graph `request-id` the mutation produced, in order. */
  requestIds: string[];
  correlationId?: string;
  /** Sign-ins (`operation: "signIn"`): the account the gateway now acts as, or the one refused. */
  account?: AuditAccount;
  /** Sign-ins: the account the gateway acted as before (absent when nobody was signed in). */
  previousAccount?: AuditAccount;
  /**
   * Sign-ins: the client address that completed it (the TCP peer, or behind TRUSTED_PROXIES the
   * forwarded client). Requests refused before the caller was authenticated: the address it came from.
   */
  clientAddress?: string;
  /**
   * Documents refused unparsed or before Apollo ran them (src/audit/refused-request.ts) that selected
   * several mutation fields: each field of the schema they named, once (`operation` is then `document`).
   */
  mutationFields?: string[];
  /**
   * Such a document whose mutation the bounded reader could not follow to its end (more fragments,
   * spreads, fields or mutations than it reads, src/audit/unparsed-mutation.ts): it may have selected
   * any mutation field, not only those in `mutationFields` (`operation` is `document`).
   */
  mutationFieldsIncomplete?: true;
  /**
   * Refusals before Apollo ran the document: the `reason` the answer carried (`PAYLOAD_TOO_LARGE`,
   * `VARIABLES_TOO_DEEP`, ...). A mutation on an administrator without `Users.ManageAdmins`:
   * `ADMINISTRATOR_TARGET` (refused) or `ADMINISTRATOR_CHECK_FAILED` (failed, Graph did not say).
   */
  reasonDetail?: string;
  /** Refusals before Apollo ran the document: the HTTP status of the answer. */
  httpStatus?: number;
  /**
   * Refusals only, on the last event of a refused document that selected more distinct mutation
   * fields (mutation and target) than are audited one by one (src/audit/plugin.ts): how many more
   * were refused with it, without an event of their own.
   */
  unlistedRefusals?: number;
}

export function auditCaller(caller: Caller | undefined): AuditCaller {
  if (!caller) return { kind: 'unknown' };
  switch (caller.kind) {
    case 'anonymous':
      return { kind: 'anonymous' };
    case 'api-key':
      return { kind: 'api-key', keyId: caller.keyId };
    case 'entra':
      // Deliberately field by field: `assertion` (the bearer token) must never be copied.
      return {
        kind: 'entra',
        subject: caller.subject,
        ...(caller.tenantIsSecret ? {} : { tenantId: caller.tenantId }),
        principal: caller.principal,
      };
  }
}

/** Outcome of a run of steps: all, none or some succeeded; any step of unknown outcome makes it unknown. */
export function outcomeOfSteps(steps: readonly { succeeded: boolean; outcome?: string }[]): AuditOutcome {
  if (steps.length === 0) return 'failed';
  if (steps.some((s) => s.outcome === 'UNKNOWN')) return 'unknown';
  const ok = steps.filter((s) => s.succeeded).length;
  if (ok === steps.length) return 'succeeded';
  return ok === 0 ? 'failed' : 'partial';
}

/** Longest operation name an event keeps, as src/audit/unparsed-mutation.ts reads names. */
export const MAX_AUDITED_OPERATION_NAME = 64;

/** A GraphQL Name (spec, "Names"): ASCII letters, digits and `_`, so no control, line-break or bidi character. */
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/**
 * The one rule for `operationName` in every audit event (and in the operation log line and trace span), successful, failed or refused, whether
 * Apollo parsed the document or not (docs/security.md#operation-names-in-audit-events). The name is
 * the caller's text: kept only when it is a GraphQL Name of at most MAX_AUDITED_OPERATION_NAME
 * characters (a name written in a parsed document always is one; the request's JSON
 * `operationName`, which can hold anything, is never passed here), and not when it looks like a
 * credential: a run of letters and digits between underscores that is 20 or more long with two
 * digits or more (`ghp_…`, `sk_live_…`, a hex digest), or 16 or more long with a digit and no
 * lower-case letter (`AKIA…`). Otherwise null: never cut, never escaped.
 * The credential test is a heuristic; it cannot know every secret's shape.
 */
export function auditOperationName(name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_AUDITED_OPERATION_NAME) return null;
  if (!GRAPHQL_NAME.test(name)) return null;
  for (const run of name.split('_')) {
    if (run.length < 16) continue;
    let digits = 0;
    let lower = 0;
    for (let i = 0; i < run.length; i += 1) {
      const code = run.charCodeAt(i);
      if (code >= 48 && code <= 57) digits += 1;
      else if (code >= 97 && code <= 122) lower += 1;
    }
    if ((run.length >= 20 && digits >= 2) || (lower === 0 && digits >= 1)) return null;
  }
  return name;
}
