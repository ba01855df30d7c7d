import type { AuditStep, ContainmentRecord } from '../../audit/event.js';
import { ErrorCode, type GatewayError } from '../../errors.js';
import type { MutationResolvers, StepError, TerminateSessionPayload } from '../../generated/graphql.js';
import { payloadOrThrow, requestIdsOf, singleUserWrite, type Settled } from './audited-write.js';
import { auditStep, runAudited, userInput } from './audited.js';
import { containing, containmentOf, writeSucceeded } from './contained-callers.js';
import type { UserPayloadModel } from './payload-model.js';
import type { WritesOf } from './writes-per-request.js';

/** A step's error as the schema's StepError: code, safe message, request-id and, when retrying makes sense, when. */
function stepError(error: GatewayError, requestId: string | undefined): StepError {
  const retryAfterSeconds = error.extensions.retryAfterSeconds;
  return {
    code: error.code,
    message: error.message,
    requestId: requestId ?? null,
    retryAfterSeconds: typeof retryAfterSeconds === 'number' ? retryAfterSeconds : null,
  };
}

/** `terminateSession` (revoke sessions, optionally disable the account: each step reported) and `revokeSignInSessions`. */
export function sessionMutations(writesOf: WritesOf): MutationResolvers {
  return {
    terminateSession: async (_p, { input }, ctx, info) => {
      const disableAccount = input.disableAccount !== false;
      type Result = {
        result: Settled<UserPayloadModel<TerminateSessionPayload>>;
        steps: AuditStep[];
        requestIds: string[];
        reason?: string;
        containment?: ContainmentRecord;
      };
      const settled = await runAudited(ctx, info, userInput(input.user), async (user): Promise<Result> => {
        const writes = writesOf(ctx);
        // Either step ends the user's sessions in Entra (docs/graph-facts.md#revoked-sessions-and-access-tokens).
        const result = await containing(
          ctx,
          writes,
          user,
          () => writes.terminateSession(user, { disableAccount }),
          (r) => r.steps.some((s) => s.succeeded),
        );
        const steps = result.steps.map((s) => auditStep(s.step, s));
        const requestIds = requestIdsOf(...result.steps);
        // A user that does not exist is not a partial result: when every step failed (none may have
        // been applied) and Graph answered 404, the mutation is a NOT_FOUND error (Graph's request-id
        // in its extensions).
        const missing = result.steps.every((s) => s.outcome === 'FAILED')
          ? result.steps.find((s) => !s.succeeded && s.error.code === ErrorCode.NOT_FOUND)
          : undefined;
        if (missing && !missing.succeeded) {
          return { result: { failed: missing.error }, steps, requestIds, reason: ErrorCode.NOT_FOUND };
        }
        const shown = result.steps.map((s) => ({
          step: s.step,
          succeeded: s.succeeded,
          outcome: s.outcome,
          requestId: s.requestId ?? null,
          clientRequestId: s.clientRequestId ?? null,
          error: s.succeeded ? null : stepError(s.error, s.requestId),
          caveat: s.caveat ?? null,
        }));
        return {
          result: { payload: { userKey: user, steps: shown, succeeded: shown.every((s) => s.succeeded) } },
          steps,
          requestIds,
          ...containmentOf(result),
        };
      });
      return payloadOrThrow(settled);
    },

    revokeSignInSessions: singleUserWrite(
      writesOf,
      'REVOKE_SESSIONS',
      (writes, user, ctx) => containing(ctx, writes, user, () => writes.revokeSignInSessions(user), writeSucceeded),
      (user, reach) => ({
        userKey: user,
        revoked: reach.revoked,
        caveat: reach.caveat ?? null,
      }),
    ),
  };
}
