import type { GraphQLResolveInfo } from 'graphql';
import type { MutationResolvers } from '../../generated/graphql.js';
import type { GatewayContext } from '../context.js';
import { auditedSingle } from './audited-write.js';
import { userInput } from './audited.js';
import { containing, writeSucceeded } from './contained-callers.js';
import type { WritesOf } from './writes-per-request.js';

/** `disableAccount` and `enableAccount`: one write of `accountEnabled`. */
export function accountStatusMutations(writesOf: WritesOf): MutationResolvers {
  const accountStatus =
    (enabled: boolean) =>
    async (_p: unknown, { input }: { input: { user: string } }, ctx: GatewayContext, info: GraphQLResolveInfo) =>
      auditedSingle(
        ctx,
        info,
        // Disabling contains; re-enabling an administrator disabled as compromised hands the account
        // back to whoever holds its credentials (docs/security.md#administrators-as-targets).
        userInput(input.user, enabled || undefined),
        enabled ? 'ENABLE_ACCOUNT' : 'DISABLE_ACCOUNT',
        (user) =>
          enabled ? writesOf(ctx).enableAccount(user) : containing(ctx, writesOf(ctx), user, () => writesOf(ctx).disableAccount(user), writeSucceeded),
        (user, _v, requestId) => ({ userKey: user, accountEnabled: enabled, requestId: requestId ?? null }),
      );
  return { disableAccount: accountStatus(false), enableAccount: accountStatus(true) };
}
