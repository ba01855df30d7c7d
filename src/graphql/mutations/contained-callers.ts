import type { ContainmentRecord } from '../../audit/event.js';
import type { GraphWrites } from '../../graph/writes.js';
import { isGuid } from '../../guid.js';
import type { GatewayContext } from '../context.js';

/**
 * A containment mutation (one whose effect, in Entra, ends the user's sessions) that succeeded
 * records its user, so that the user's caller tokens issued before are refused from then on
 * (docs/security.md#contained-users-caller-tokens). Entra itself leaves those access tokens valid
 * until they expire (docs/graph-facts.md#revoked-sessions-and-access-tokens).
 *
 * The record needs the user's object id (the `oid` of its tokens): the input's id, or the id a
 * userPrincipalName names, looked up after the write (before it for a deletion, after which the
 * name no longer resolves). Only with CALLER_AUTH=entra; otherwise nothing is looked up.
 */
/** A containment's write result, with what became of its record when the write counted (the audit event's `containment`). */
export type Contained<R> = R & { containment?: ContainmentRecord };

/** The audit event's `containment` of a result: present only on a containment whose write counted. */
export function containmentOf(result: { containment?: ContainmentRecord }): { containment?: ContainmentRecord } {
  return result.containment ? { containment: result.containment } : {};
}

/** The predicate of a containment that is one write: it counts once the write succeeded. */
export function writeSucceeded(result: { succeeded: boolean }): boolean {
  return result.succeeded;
}

export async function containing<R extends object>(
  ctx: GatewayContext,
  writes: GraphWrites,
  user: string,
  write: () => Promise<R>,
  succeeded: (result: R) => boolean,
  options: { lookUpFirst?: boolean } = {},
): Promise<Contained<R>> {
  const revocations = ctx.callerRevocations;
  if (!revocations) return write();
  const lookUp = async () => {
    if (isGuid(user)) return user.toLowerCase();
    const found = await writes.resolveUserId(user, 'user');
    return found.found ? found.id : undefined;
  };
  const before = options.lookUpFirst ? await lookUp().catch(() => undefined) : undefined;
  const result = await write();
  if (!succeeded(result)) return result;
  // After Graph answered: a token issued while the write was on its way counts as before it.
  const containedAtMs = Date.now();
  const objectId = before ?? (await lookUp().catch(() => undefined));
  if (!objectId) {
    ctx.logger.warn(
      { operation: 'containment' },
      "the contained user's object id could not be looked up: the caller tokens it already holds are not refused by the gateway until they expire",
    );
    return { ...result, containment: 'not-recorded' };
  }
  // false: the shared store (Redis, SQLite) refused the write, so only this process refuses.
  return { ...result, containment: (await revocations.revoke(objectId, containedAtMs)) ? 'recorded' : 'this-process-only' };
}
