import { ErrorCode, GatewayError, badInput, isGatewayError } from '../errors.js';
import type { GraphUser } from '../graph/api.js';
import type { GatewayContext } from './context.js';
import type { CursorPayload } from './cursor.js';

export interface RemovedUserModel {
  id: string;
  reason: 'changed' | 'deleted';
}

export interface UserChangesModel {
  kind: 'FULL_SYNC' | 'CHANGES';
  /** FULL_SYNC: this call's share of every user. */
  users: GraphUser[];
  /** CHANGES: users created or changed since the token. */
  changed: GraphUser[];
  removed: RemovedUserModel[];
  complete: boolean;
  nextDeltaToken: string;
}

/**
 * Graph delta pages one call reads at most: bounded work (and response size) per call at any
 * tenant size. Graph's user delta pages hold up to 200 users (docs/graph-facts.md#delta-query), so a
 * call returns up to ~2,000 and a 25,000-user full sync takes about 13 calls. The upstream budget's
 * estimate of `userChanges` (src/graphql/budget/planning-rules.ts) is this number.
 */
export const DELTA_PAGES_PER_CALL = 10;

const DELTA_KIND = 'userChanges';
/** Graph keeps directory delta state for 7 days (docs/graph-facts.md#delta-query). */
export const DELTA_TOKEN_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
const RESYNC = 'Start again without a deltaToken (full resync) and keep the new nextDeltaToken.';
/**
 * Tokens are sealed with the cursor key and bound to their caller (src/graphql/cursor.ts): without
 * CURSOR_KEY that key is random per process, so a restart (or another replica) turns every
 * outstanding token into an unknown one, and so does presenting it with another API key or user. The caller's only
 * way forward is a full resync, so the message says that rather than "invalid cursor".
 */
const UNKNOWN_TOKEN =
  'This deltaToken is unknown to this gateway: it was not issued here or not to these credentials, was altered, or was issued before a restart or by another replica. ' +
  'Resync: call userChanges without a deltaToken (full sync) and keep the new nextDeltaToken. ' +
  'Operators: setting CURSOR_KEY keeps tokens valid across restarts and replicas.';

/**
 * One call of the change feed: up to DELTA_PAGES_PER_CALL Graph pages of the current round. The
 * caller's token wraps Graph's nextLink (the round goes on) or deltaLink (the round is complete) in a
 * sealed cursor, so a token can only ever continue a delta query this gateway started for this caller, and it says
 * which round it continues: users of the full sync are never reported as changes.
 */
export async function fetchUserChanges(
  ctx: GatewayContext,
  deltaToken: string | null | undefined,
  select: string[],
  now = Date.now(),
): Promise<UserChangesModel> {
  let payload: CursorPayload | null = null;
  if (deltaToken != null) {
    payload = decodeDeltaToken(ctx, deltaToken);
    if (payload.issuedAt !== undefined && now - payload.issuedAt > DELTA_TOKEN_LIFETIME_MS) {
      throw badInput(`The delta token has expired (older than 7 days). ${RESYNC}`, { reason: 'DELTA_TOKEN_EXPIRED' });
    }
    const tracked = new Set(payload.select ?? []);
    const missing = select.filter((p) => !tracked.has(p));
    if (missing.length > 0) {
      throw badInput(`This delta token tracks other fields (not ${missing.join(', ')}). ${RESYNC}`, { reason: 'DELTA_SELECTION_CHANGED' });
    }
  }
  const deltaLink = payload?.nextLink ?? undefined;
  // No token: a new full sync. A token continues its round; older tokens (without `round`) are deltaLinks.
  const round = payload === null ? 'full-sync' : (payload.round ?? 'changes');
  const tracked = payload?.select ?? select;
  let page;
  try {
    page = await ctx.graph.userChanges(deltaLink ? { deltaLink, select: tracked, maxPages: DELTA_PAGES_PER_CALL } : { select, maxPages: DELTA_PAGES_PER_CALL });
  } catch (error) {
    // A round Graph can no longer continue, its delta token or a nextLink inside it expired
    // (docs/graph-facts.md#delta-query): a resync, also when the expired nextLink was one this call followed.
    if (isExpiredDeltaError(error)) {
      const what = deltaLink ? 'this delta token' : 'the delta round this call started (a page token expired while it was read)';
      throw badInput(`Microsoft Graph no longer knows ${what}. ${RESYNC}`, {
        reason: 'DELTA_TOKEN_EXPIRED',
        ...(typeof error.extensions.graphErrorCode === 'string' ? { graphErrorCode: error.extensions.graphErrorCode } : {}),
        ...(typeof error.extensions.requestId === 'string' ? { requestId: error.extensions.requestId } : {}),
      });
    }
    throw error;
  }
  const complete = page.nextLink === null;
  const continuation = complete ? page.deltaLink : page.nextLink;
  if (!continuation) throw new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Microsoft Graph ended the change feed without a delta link.');
  return {
    kind: round === 'full-sync' ? 'FULL_SYNC' : 'CHANGES',
    users: round === 'full-sync' ? page.changed : [],
    changed: round === 'full-sync' ? [] : page.changed,
    removed: page.removed.map((r) => ({ id: r.id, reason: r.reason })),
    complete,
    nextDeltaToken: ctx.cursors.encode({
      v: 1,
      kind: DELTA_KIND,
      nextLink: continuation,
      skip: 0,
      advanced: false,
      select: tracked,
      issuedAt: now,
      // After a complete round the token starts the next one: changes.
      round: complete ? 'changes' : round,
    }),
  };
}

function decodeDeltaToken(ctx: GatewayContext, deltaToken: string): CursorPayload {
  let payload: CursorPayload;
  try {
    payload = ctx.cursors.decode(deltaToken, DELTA_KIND, 'deltaToken');
  } catch (error) {
    if (isGatewayError(error) && error.code === ErrorCode.BAD_USER_INPUT) throw badInput(UNKNOWN_TOKEN, { reason: 'DELTA_TOKEN_UNKNOWN' });
    throw error;
  }
  if (!payload.nextLink) throw badInput(UNKNOWN_TOKEN, { reason: 'DELTA_TOKEN_UNKNOWN' });
  return payload;
}

/**
 * Graph's resync answers (docs/graph-facts.md#delta-query): the Graph client marks them
 * `resyncRequired` (`deltaError` in src/graph/client.ts holds the one list of their statuses and codes).
 */
function isExpiredDeltaError(error: unknown): error is GatewayError {
  return isGatewayError(error) && error.extensions.resyncRequired === true;
}
