import type { AuditStep, ContainmentRecord } from '../../audit/event.js';
import { badInput } from '../../errors.js';
import type { ChangePasswordOnPremisesPayload, ForceResetPasswordPayload, MutationResolvers } from '../../generated/graphql.js';
import type { StepOutcome } from '../../graph/writes.js';
import { normalizeUserKey } from '../user-id.js';
import { auditedSingle, payloadOrThrow, requestIdsOf, single, type Settled } from './audited-write.js';
import { auditStep, runAudited, userInput, withoutSecret, type MutationInput } from './audited.js';
import { containing, containmentOf, writeSucceeded } from './contained-callers.js';
import type { UserPayloadModel } from './payload-model.js';
import type { WritesOf } from './writes-per-request.js';

/**
 * The input of a mutation that sets a password: the user, and a password that is not empty (its value
 * is never audited). The caller chooses the password, so it can sign in as the user: an administrator
 * target needs Users.ManageAdmins (docs/security.md#administrators-as-targets).
 */
function userAndPassword(input: { user: string; password: string }): MutationInput<string> {
  return {
    target: input.user,
    takeover: true,
    check: () => {
      const user = normalizeUserKey(input.user, 'user');
      if (typeof input.password !== 'string' || input.password.length === 0) throw badInput('`password` must not be empty.');
      return user;
    },
  };
}

/**
 * The audit step of the read after forceResetPassword's PATCH, as the payload's
 * `forceChangePasswordNextSignInConfirmed` says it: SUCCEEDED, Graph shows the flag set; FAILED, Graph
 * shows it unset (not applied, or not yet visible); UNKNOWN, the read failed or showed no flag. The
 * event's outcome follows from its steps like any other: `succeeded`, `partial` or `unknown`.
 */
function confirmationStep(confirmed: boolean | null, read: StepOutcome): AuditStep {
  const step = 'CONFIRM_FORCE_PASSWORD_CHANGE';
  const trace = {
    ...(read.status !== undefined ? { status: read.status } : {}),
    ...(read.requestId ? { requestId: read.requestId } : {}),
    ...(read.clientRequestId ? { clientRequestId: read.clientRequestId } : {}),
  };
  if (confirmed === true) return { step, succeeded: true, outcome: 'SUCCEEDED', ...trace };
  if (confirmed === false) {
    return { step, succeeded: false, outcome: 'FAILED', ...trace, caveat: 'Graph shows forceChangePasswordNextSignIn false after accepting the change.' };
  }
  return {
    step,
    succeeded: false,
    outcome: 'UNKNOWN',
    ...trace,
    ...(read.succeeded ? { caveat: 'Graph did not show forceChangePasswordNextSignIn.' } : { errorCode: read.error.code }),
  };
}

/** `changePassword`, `forceResetPassword` and `changePasswordOnPremises` (a long-running operation followed to its end). */
export function passwordMutations(writesOf: WritesOf): MutationResolvers {
  return {
    changePassword: async (_p, { input }, ctx, info) => {
      const force = input.forceChangePasswordNextSignIn !== false;
      const withMfa = input.forceChangePasswordNextSignInWithMfa === true;
      return auditedSingle(
        ctx,
        info,
        userAndPassword(input),
        'SET_PASSWORD',
        (user) =>
          containing(
            ctx,
            writesOf(ctx),
            user,
            () =>
              writesOf(ctx).setPassword(user, {
                password: input.password,
                forceChangePasswordNextSignIn: force,
                forceChangePasswordNextSignInWithMfa: withMfa,
              }),
            writeSucceeded,
          ),
        (user, _v, requestId) => ({
          userKey: user,
          forceChangePasswordNextSignIn: force,
          forceChangePasswordNextSignInWithMfa: withMfa,
          requestId: requestId ?? null,
        }),
        input.password,
      );
    },

    forceResetPassword: async (_p, { input }, ctx, info) => {
      type Result = { result: Settled<UserPayloadModel<ForceResetPasswordPayload>>; steps: AuditStep[]; requestIds: string[]; reason?: string };
      const settled = await runAudited(ctx, info, userInput(input.user), async (user): Promise<Result> => {
        const done = single('FORCE_PASSWORD_CHANGE', await writesOf(ctx).forceResetPassword(user));
        if (done.failed) return { result: { failed: done.failed }, steps: done.steps, requestIds: done.requestIds, reason: done.failed.code };
        const { confirmed, read } = done.value;
        return {
          result: {
            payload: {
              userKey: user,
              forceChangePasswordNextSignIn: true,
              forceChangePasswordNextSignInConfirmed: confirmed,
              requestId: done.requestId ?? null,
            },
          },
          steps: [...done.steps, confirmationStep(confirmed, read)],
          requestIds: [...new Set([...done.requestIds, ...requestIdsOf(read)])],
        };
      });
      return payloadOrThrow(settled);
    },

    changePasswordOnPremises: async (_p, { input }, ctx, info) => {
      type Result = {
        result: Settled<UserPayloadModel<ChangePasswordOnPremisesPayload>>;
        steps: AuditStep[];
        requestIds: string[];
        reason?: string;
        outcome?: 'failed';
        containment?: ContainmentRecord;
      };
      const settled = await runAudited(ctx, info, userAndPassword(input), async (user): Promise<Result> => {
        const writes = writesOf(ctx);
        // Recorded once the reset succeeded (a reset still running may never apply).
        const outcome = await containing(
          ctx,
          writes,
          user,
          () => writes.resetPasswordOnPremises(user, input.password),
          (r) => r.succeeded && r.value.status === 'SUCCEEDED',
        );
        const requestIds = outcome.requestIds;
        if (!outcome.succeeded) {
          const failure = withoutSecret(outcome.error, input.password);
          return { result: { failed: failure }, steps: [auditStep('RESET_PASSWORD', outcome)], requestIds, reason: failure.code };
        }
        const op = outcome.value;
        // Graph accepted the reset; an operation still running when the gateway stopped following it
        // may yet succeed: its outcome is unknown, not failed.
        const operationOutcome = op.status === 'SUCCEEDED' ? 'SUCCEEDED' : op.status === 'FAILED' ? 'FAILED' : 'UNKNOWN';
        const steps: AuditStep[] = [
          auditStep('RESET_PASSWORD', outcome),
          { step: 'OPERATION', succeeded: operationOutcome === 'SUCCEEDED', outcome: operationOutcome },
        ];
        return {
          result: {
            payload: { userKey: user, status: op.status, statusDetail: op.statusDetail ?? null, operationId: op.operationId ?? null, polls: op.polls },
          },
          steps,
          requestIds: op.requestIds,
          ...(op.status === 'SUCCEEDED' ? {} : { reason: `OPERATION_${op.status}` }),
          ...(op.status === 'FAILED' ? { outcome: 'failed' as const } : {}),
          ...containmentOf(outcome),
        };
      });
      return payloadOrThrow(settled);
    },
  };
}
