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
interface GetByIdsOutcome {
  /** Complete users by lower-case id. */
  readonly found: ReadonlyMap<string, GraphUser>;
  /** Lower-case ids Graph answered without every selected property. */
  readonly incomplete: ReadonlySet<string>;
}

function readGetByIds(body: { value?: unknown } | undefined, select: readonly UserProperty[]): GetByIdsOutcome {
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

/**
 * Each lookup's answer, in the order of `lookups`, from a getByIds body: a complete user as Graph
 * sent it, an id Graph did not return as null (no such user), and the users Graph sent incomplete
 * read again through `reread` (one call for all of them, answers in the order it was given).
 * `idOf` is a lookup's lower-case id; the ids of one call are distinct (the per-request loader and
 * the coalescer both key their lookups by id), so the re-read answers are matched by id.
 */
export async function answerGetByIds<L, E>(
  body: { value?: unknown } | undefined,
  select: readonly UserProperty[],
  lookups: readonly L[],
  idOf: (lookup: L) => string,
  reread: (lookups: L[]) => Promise<ReadonlyArray<GraphUser | null | E>>,
): Promise<Array<GraphUser | null | E>> {
  const { found, incomplete } = readGetByIds(body, select);
  const again = lookups.filter((lookup) => incomplete.has(idOf(lookup)));
  const rereadById = new Map<string, GraphUser | null | E>();
  if (again.length > 0) {
    const answers = await reread(again);
    again.forEach((lookup, position) => rereadById.set(idOf(lookup), answers[position]!));
  }
  return lookups.map((lookup) => {
    const id = idOf(lookup);
    return rereadById.has(id) ? rereadById.get(id)! : (found.get(id) ?? null);
  });
}
