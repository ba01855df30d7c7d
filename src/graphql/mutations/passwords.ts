import type { AuditStep } from '../../audit/event.js';
import { badInput } from '../../errors.js';
import type { ChangePasswordOnPremisesPayload, MutationResolvers } from '../../generated/graphql.js';
import { normalizeUserKey } from '../user-id.js';
import { auditedSingle, payloadOrThrow, singleUserWrite, type Settled } from './audited-write.js';
import { auditStep, runAudited, withoutSecret } from './audited.js';
import type { UserPayloadModel } from './payload-model.js';
import type { WritesOf } from './writes-per-request.js';

/** `changePassword`, `forceResetPassword` and `changePasswordOnPremises` (a long-running operation followed to its end). */
export function passwordMutations(writesOf: WritesOf): MutationResolvers {
  return {
    changePassword: async (_p, { input }, ctx, info) => {
      const user = normalizeUserKey(input.user, 'user');
      if (typeof input.password !== 'string' || input.password.length === 0) throw badInput('`password` must not be empty.');
      const force = input.forceChangePasswordNextSignIn !== false;
      const withMfa = input.forceChangePasswordNextSignInWithMfa === true;
      return auditedSingle(
        ctx,
        info,
        user,
        'SET_PASSWORD',
        () =>
          writesOf(ctx).setPassword(user, { password: input.password, forceChangePasswordNextSignIn: force, forceChangePasswordNextSignInWithMfa: withMfa }),
        (_v, requestId) => ({
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
      const user = normalizeUserKey(input.user, 'user');
      if (typeof input.password !== 'string' || input.password.length === 0) throw badInput('`password` must not be empty.');
      type Result = {
        result: Settled<UserPayloadModel<ChangePasswordOnPremisesPayload>>;
        steps: AuditStep[];
        requestIds: string[];
        reason?: string;
        outcome?: 'failed';
      };
      const settled = await runAudited(ctx, info, user, async (): Promise<Result> => {
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
