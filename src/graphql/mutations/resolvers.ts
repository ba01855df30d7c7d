import type { Resolvers } from '../../generated/graphql.js';
import { accountStatusMutations } from './account-status.js';
import { authenticationMethodMutations } from './authentication-methods.js';
import { managerMutations } from './manager.js';
import { passwordMutations } from './passwords.js';
import { payloadUser } from './payload-user.js';
import { sessionMutations } from './sessions.js';
import { userLifecycleMutations } from './user-lifecycle.js';
import { perRequestWrites, type MutationResolverOptions } from './writes-per-request.js';

/**
 * Resolvers of the Mutation type and its payloads. Each mutation, inside runAudited: check the
 * caller, check its input (the target first), call one domain write (src/graph/writes.ts), turn the
 * outcome into a payload, and leave one audit event, refusals of its input included. Payloads carry the user's key (payload-model.ts); the `user`
 * field fetches only what the caller selected, after the write, so it shows the new state.
 */
export function createMutationResolvers(options: MutationResolverOptions): Resolvers {
  const writesOf = perRequestWrites(options);
  const withUser = { user: payloadUser };
  return {
    Mutation: {
      ...sessionMutations(writesOf),
      ...passwordMutations(writesOf),
      ...accountStatusMutations(writesOf),
      ...userLifecycleMutations(writesOf),
      ...managerMutations(writesOf),
      ...authenticationMethodMutations(writesOf),
    },
    TerminateSessionPayload: withUser,
    ChangePasswordPayload: withUser,
    ForceResetPasswordPayload: withUser,
    ChangePasswordOnPremisesPayload: withUser,
    AccountStatusPayload: withUser,
    RevokeSignInSessionsPayload: withUser,
    CreateUserPayload: withUser,
    UpdateUserPayload: withUser,
    ManagerPayload: withUser,
    DeleteAuthenticationMethodPayload: withUser,
    CreateTemporaryAccessPassPayload: withUser,
  };
}
