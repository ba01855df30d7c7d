import type { AuditStep } from '../../audit/event.js';
import { badInput } from '../../errors.js';
import type { ChangePasswordOnPremisesPayload, MutationResolvers } from '../../generated/graphql.js';
import { normalizeUserKey } from '../user-id.js';
import { auditedSingle, payloadOrThrow, singleUserWrite, type Settled } from './audited-write.js';
import { auditStep, runAudited, withoutSecret, type MutationInput } from './audited.js';
import type { UserPayloadModel } from './payload-model.js';
import type { WritesOf } from './writes-per-request.js';

/** The input of a mutation that sets a password: the user, and a password that is not empty (its value is never audited). */
function userAndPassword(input: { user: string; password: string }): MutationInput<string> {
  return {
    target: input.user,
    check: () => {
      const user = normalizeUserKey(input.user, 'user');
      if (typeof input.password !== 'string' || input.password.length === 0) throw badInput('`password` must not be empty.');
      return user;
    },
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
          writesOf(ctx).setPassword(user, { password: input.password, forceChangePasswordNextSignIn: force, forceChangePasswordNextSignInWithMfa: withMfa }),
        (user, _v, requestId) => ({
          userKey: user,
          forceChangePasswordNextSignIn: force,
          forceChangePasswordNextSignInWithMfa: withMfa,
          requestId: requestId ?? null,
        }),
        input.password,
      );
    },

    forceResetPassword: singleUserWrite(
      writesOf,
      'FORCE_PASSWORD_CHANGE',
      (writes, user) => writes.forceResetPassword(user),
      (user, { confirmed }) => ({
        userKey: user,
        forceChangePasswordNextSignIn: true,
        forceChangePasswordNextSignInConfirmed: confirmed,
      }),
    ),

    changePasswordOnPremises: async (_p, { input }, ctx, info) => {
      type Result = {
        result: Settled<UserPayloadModel<ChangePasswordOnPremisesPayload>>;
        steps: AuditStep[];
        requestIds: string[];
        reason?: string;
        outcome?: 'failed';
      };
      const settled = await runAudited(ctx, info, userAndPassword(input), async (user): Promise<Result> => {
        const outcome = await writesOf(ctx).resetPasswordOnPremises(user, input.password);
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
        };
      });
      return payloadOrThrow(settled);
    },
  };
}
