import type { GraphUser, UserProperty } from './api.js';

/**
 * What a getByIds answer says about each id asked for. Graph's known issue "Incomplete objects when
 * using getByIds request" says v1.0 users come back with a limited set of properties, and "more
 * complete" ones with `$select`, a workaround that "might be updated in the future"; an older text of
 * directoryobject-getbyids said `$select` is not available there at all
 * (docs/graph-facts.md#manager-and-bulk-lookup). So a selected property missing from a user is not
 * known to be null: that user is `incomplete`, to be read again with `GET /users/{id}?$select=...`.
 * A property Graph sent as `null` is a null.
 */
export interface GetByIdsOutcome {
  /** Complete users by lower-case id. */
  readonly found: ReadonlyMap<string, GraphUser>;
  /** Lower-case ids Graph answered without every selected property. */
  readonly incomplete: ReadonlySet<string>;
}

export function readGetByIds(body: { value?: unknown } | undefined, select: readonly UserProperty[]): GetByIdsOutcome {
  const found = new Map<string, GraphUser>();
  const incomplete = new Set<string>();
  const value = Array.isArray(body?.value) ? (body.value as unknown[]) : [];
  for (const object of value) {
    if (object === null || typeof object !== 'object' || typeof (object as GraphUser).id !== 'string') continue;
    const user = object as GraphUser;
    const id = user.id.toLowerCase();
    if (select.every((property) => Object.hasOwn(user, property))) found.set(id, user);
    else incomplete.add(id);
  }
  return { found, incomplete };
}
