/**
 * Query options of `GET /users/delta` beyond paging (docs/graph-facts.md#delta-query):
 * - `$filter`: only `id eq '{id}'`, several ORed, at most 50 objects; anything else is 400
 *   `Request_UnsupportedQuery` "Unsupported Query." (user-delta; the answer to an `endsWith` filter
 *   quoted in Microsoft Q&A question 1090594).
 * - `Prefer: return=minimal` on a request with a deltaLink: only the properties that changed since
 *   the round began (user-delta, "Alternative: return only the changed properties").
 * Kept apart from the paging in delta.ts so each can change alone.
 */
import type { GraphCall } from './call.js';
import { badRequest } from './errors.js';

/** Objects one delta `$filter` may track (user-delta: "There is a limit of 50 filtered objects"). */
export const DELTA_FILTER_LIMIT = 50;

const unsupported = () => badRequest('Unsupported Query.', 'Request_UnsupportedQuery');

/** One `id eq '…'` clause, optionally in parentheses. */
const ID_CLAUSE = /^\(?\s*id\s+eq\s+'([0-9a-fA-F-]{1,64})'\s*\)?$/i;

/**
 * The object ids a delta `$filter` tracks (lower case), or undefined without a filter. Refuses every
 * other filter shape, and more than 50 ids.
 */
export function deltaFilterIds(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const clauses = raw.trim().split(/\s+or\s+/i);
  const ids: string[] = [];
  for (const clause of clauses) {
    const match = ID_CLAUSE.exec(clause.trim());
    if (!match) throw unsupported();
    ids.push(match[1]!.toLowerCase());
  }
  const unique = [...new Set(ids)];
  if (unique.length > DELTA_FILTER_LIMIT) {
    throw badRequest(`Unsupported Query. A delta query can track at most ${DELTA_FILTER_LIMIT} objects by id.`, 'Request_UnsupportedQuery');
  }
  return unique;
}

/** Whether the request says `Prefer: return=minimal` (one preference among others, any case). */
export function prefersMinimal(call: GraphCall): boolean {
  const prefer = call.req.headers.prefer ?? '';
  return prefer.split(',').some((p) => /^\s*return\s*=\s*"?minimal"?\s*$/i.test(p));
}

/**
 * What a changed user shows under `Prefer: return=minimal`: `id` and, of the tracked properties,
 * those that changed. `changed` undefined means "everything" (a user created in the window).
 */
export function minimalProperties(tracked: readonly string[], changed: ReadonlySet<string> | undefined): string[] {
  if (changed === undefined) return [...tracked];
  return tracked.filter((p) => p === 'id' || changed.has(p));
}
