import { outcomeOfSteps, type AuditOutcome, type AuditStep } from '../../audit/event.js';
import { badInput } from '../../errors.js';
import type { ManagerPayload, MutationResolvers } from '../../generated/graphql.js';
import { isGuid } from '../../guid.js';
import { normalizeUserKey } from '../user-id.js';
import { payloadOrThrow, single, singleUserWrite, type Settled } from './audited-write.js';
import { runAudited } from './audited.js';
import type { UserPayloadModel } from './payload-model.js';
import type { WritesOf } from './writes-per-request.js';

/** `assignManager` and `removeManager`. */
export function managerMutations(writesOf: WritesOf): MutationResolvers {
  return {
    /**
     * Graph takes the manager as an `@odata.id` naming its object id (docs/graph-facts.md#manager-and-bulk-lookup),
     * so a userPrincipalName is looked up first: one `$select=id` GET, none for a GUID, and one per
     * request for a UPN used several times. Both steps are audited.
     */
    assignManager: async (_p, { input }, ctx, info) => {
      const check = () => {
        const user = normalizeUserKey(input.user, 'user');
        const manager = normalizeUserKey(input.manager, 'manager');
        if (user.toLowerCase() === manager.toLowerCase()) throw badInput('A user cannot be their own manager.', { argument: 'manager' });
        return { user, manager };
      };
      type Result = { result: Settled<UserPayloadModel<ManagerPayload>>; steps: AuditStep[]; requestIds: string[]; reason?: string; outcome?: AuditOutcome };
      const settled = await runAudited(ctx, info, { target: input.user, check }, async ({ user, manager }): Promise<Result> => {
        const writes = writesOf(ctx);
        const resolved = await writes.resolveUserId(manager, 'manager');
        // A step for the lookup Graph was sent, like every other Graph call: none for a GUID, nor for a
        // UPN another field of the request already looked up (its event has the step).
        const lookupSteps: AuditStep[] =
          isGuid(manager) || (resolved.found && resolved.status === undefined)
            ? []
            : [
                {
                  step: 'RESOLVE_MANAGER',
                  succeeded: resolved.found,
                  outcome: resolved.found ? 'SUCCEEDED' : 'FAILED',
                  ...(resolved.status !== undefined ? { status: resolved.status } : {}),
                  ...(resolved.found ? {} : { errorCode: resolved.error.code }),
                  ...(resolved.requestId ? { requestId: resolved.requestId } : {}),
                  ...(resolved.clientRequestId ? { clientRequestId: resolved.clientRequestId } : {}),
                },
              ];
        const lookupIds = resolved.requestId ? [resolved.requestId] : [];
        if (!resolved.found) {
          return { result: { failed: resolved.error }, steps: lookupSteps, requestIds: lookupIds, reason: resolved.error.code };
        }
        if (isGuid(user) && user.toLowerCase() === resolved.id) {
          const failure = badInput('A user cannot be their own manager.', { argument: 'manager' });
          return { result: { failed: failure }, steps: lookupSteps, requestIds: lookupIds, reason: failure.code };
        }
        const done = single('ASSIGN_MANAGER', await writes.assignManager(user, resolved.id));
        const steps = [...lookupSteps, ...done.steps];
        const requestIds = [...lookupIds, ...done.requestIds];
        if (done.failed) {
          // The lookup changed nothing: the event is as the write went (failed or unknown), not `partial`.
          return { result: { failed: done.failed }, steps, requestIds, reason: done.failed.code, outcome: outcomeOfSteps(done.steps) };
        }
        return { result: { payload: { userKey: user, requestId: done.requestId ?? null } }, steps, requestIds };
      });
      return payloadOrThrow(settled);
    },

    removeManager: singleUserWrite(
      writesOf,
      'REMOVE_MANAGER',
      (writes, user) => writes.removeManager(user),
      (user) => ({ userKey: user }),
    ),
  };
}
