import { ErrorCode, GatewayError, isGatewayError } from '../../errors.js';
import type { GraphUsersClient } from '../../graph/api.js';
import { isGuid } from '../../guid.js';
import { Permission } from '../../permissions.js';

/** The `reason` of the refusal: the target holds a directory role. */
export const ADMINISTRATOR_TARGET = 'ADMINISTRATOR_TARGET';
/** The `reason` when Graph did not say whether the target holds one: the write is not sent either (fail closed). */
export const ADMINISTRATOR_CHECK_FAILED = 'ADMINISTRATOR_CHECK_FAILED';

/**
 * With an app-only Graph identity nothing in Graph tiers the write permissions by target: a caller
 * holding `Users.ManageAuthMethods` could mint a Temporary Access Pass for a Global Administrator and
 * sign in as them (Microsoft documents no directory role for app-only passes). So the mutations that
 * can hand an account over refuse a target holding any activated directory role unless the caller
 * also holds `Users.ManageAdmins` (docs/security.md#administrators-as-targets), as Entra tiers its
 * own Authentication Administrator (non-admins only).
 *
 * The roles come from Graph on every attempt, never from a cache of ours; Graph answers this advanced
 * query from an index that may lag a very recent change (docs/graph-facts.md#writes-and-permissions).
 * Any item counts as a role, also one Graph lists with limited information (type and id only) to an
 * identity that reaches the call but may not read directory roles. Graph lists tenant-wide, active
 * built-in roles, direct or through groups; not roles a user is only eligible for, nor roles scoped
 * to an administrative unit (docs/security.md#administrators-as-targets).
 * A target Graph does not find holds no role (the write then meets Graph's own 404). When Graph does
 * not answer the question (its 403 because the identity lacks `User.Read.All`, application or
 * delegated under on-behalf-of, or unavailable), the write is not sent: guessing "not an
 * administrator" would reopen the hole.
 *
 * The role lookup is an advanced query, served from an index that may trail recent changes
 * (docs/graph-facts.md#writes-and-permissions); the write is not. So a target named by its
 * userPrincipalName is first found by a plain read, as the write will find it, and its roles are
 * asked by object id: before, an administrator renamed a minute ago was unknown to the index under
 * the new name, a 404 that read as "no role", while the write reached them.
 *
 * The cast rides in the `$batch` of the check's other lookups (src/graph/client.ts, `roleGrantsOf`;
 * src/graphql/mutations/admin-role-grants.ts): these are its refusal and its
 * fail-closed error.
 */
export function activeRoleRefusal(): GatewayError {
  return new GatewayError(
    ErrorCode.FORBIDDEN,
    `This user holds a directory role, and this mutation could hand their account over: acting on an administrator needs the permission ${Permission.UsersManageAdmins} besides the mutation's own.`,
    { argument: 'user', reason: ADMINISTRATOR_TARGET, permission: Permission.UsersManageAdmins },
  );
}

/** The fail-closed error when Graph did not answer the role cast (User.Read.All missing, or unavailable). */
export function activeRoleLookupFailed(error: unknown): unknown {
  return administratorCheckFailed(
    error,
    'holds a directory role',
    `Reading a user's roles needs the Graph permission User.Read.All: an application permission of the gateway's app, or under on-behalf-of a delegated permission consented for it; or grant the caller ${Permission.UsersManageAdmins}.`,
  );
}

/**
 * The target's object id: as given when it is one, else found by a plain read of the
 * userPrincipalName (what the write will find, not the lagging index); undefined when Graph finds no
 * such user. Graph's own errors are thrown as they are.
 */
export async function targetObjectId(graph: Pick<GraphUsersClient, 'getUser'>, userKey: string): Promise<string | undefined> {
  if (isGuid(userKey)) return userKey;
  const target = await graph.getUser(userKey, ['id']);
  return target && typeof target.id === 'string' ? target.id : undefined;
}

/**
 * The fail-closed error of a role lookup Graph did not answer: `what` the gateway could not tell,
 * `advice` the permission to grant. Anything but a GatewayError is a defect and is thrown as it is.
 */
export function administratorCheckFailed(error: unknown, what: string, advice: string, extra: Record<string, string> = {}): unknown {
  if (!isGatewayError(error)) return error;
  const { requestId, retryAfterSeconds } = error.extensions;
  return new GatewayError(
    error.code,
    `The gateway could not tell whether this user ${what} (Microsoft Graph: ${error.code}), so nothing was written. ${advice}`,
    {
      argument: 'user',
      reason: ADMINISTRATOR_CHECK_FAILED,
      ...extra,
      ...(typeof requestId === 'string' ? { requestId } : {}),
      ...(typeof retryAfterSeconds === 'number' ? { retryAfterSeconds } : {}),
    },
  );
}
