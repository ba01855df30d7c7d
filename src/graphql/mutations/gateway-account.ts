import { ErrorCode, GatewayError } from '../../errors.js';
import type { GraphUser, GraphUsersClient } from '../../graph/api.js';
import { isGuid } from '../../guid.js';

/** The `reason` of the refusal. */
export const SIGNED_IN_ACCOUNT = 'SIGNED_IN_ACCOUNT';

/**
 * Under the authorization code flow every caller is served as one signed-in account, the
 * operator's (docs/identity.md). A caller holding `Users.Terminate`, `Users.ChangePassword`,
 * `Users.Write` or `Users.ManageAuthMethods` could otherwise aim those writes at that account
 * itself: disable it or revoke its sessions (the gateway stops working for every caller), set its
 * password without a forced change or mint it a Temporary Access Pass (the caller then holds the
 * operator's account, with every role it has beyond the gateway's). So a mutation whose target is
 * the signed-in account is refused before anything is written (docs/security.md#the-signed-in-account-is-off-limits).
 *
 * Which account that is comes from Graph (`GET /me?$select=id`), not from the token cache: another
 * replica may have signed a different account in. A target given as a userPrincipalName is resolved
 * to its object id in the same round trip (`GET /users/{upn}?$select=id`); a target Graph does not
 * find is not the signed-in account (the write then meets Graph's own 404).
 */
export async function refuseSignedInAccountTarget(graph: Pick<GraphUsersClient, 'me' | 'getUser'>, userKey: string): Promise<void> {
  const [me, target] = await Promise.all([signedInUser(graph), isGuid(userKey) ? Promise.resolve({ id: userKey }) : graph.getUser(userKey, ['id'])]);
  const signedIn = typeof me?.id === 'string' ? me.id.toLowerCase() : undefined;
  const targetId = typeof target?.id === 'string' ? target.id.toLowerCase() : undefined;
  if (signedIn === undefined || targetId !== signedIn) return;
  throw new GatewayError(
    ErrorCode.FORBIDDEN,
    'This gateway acts for every caller as one signed-in account, and a mutation may not act on that account itself (it would lock every caller out, or hand the account over). Manage it in Entra ID directly.',
    { argument: 'user', reason: SIGNED_IN_ACCOUNT },
  );
}

/**
 * `GET /me` once per GraphQL request (its Graph client is per request): a document of several
 * mutations asks once. A failed read is not kept, so the next mutation asks again.
 */
const signedInUsers = new WeakMap<object, Promise<GraphUser | null>>();

function signedInUser(graph: Pick<GraphUsersClient, 'me'>): Promise<GraphUser | null> {
  let me = signedInUsers.get(graph);
  if (!me) {
    me = graph.me(['id']);
    signedInUsers.set(graph, me);
    me.catch(() => signedInUsers.delete(graph));
  }
  return me;
}
