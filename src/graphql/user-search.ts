import { badInput } from '../errors.js';
import { odataSearchClause } from '../graph/odata.js';
import type { UserSearch } from '../generated/graphql.js';
import { QUERY_LIMITS } from './query-limits.js';

/**
 * UserSearch → Graph `$search` text. Each term becomes a quoted `"property:text"` clause (escaped
 * by odataSearchClause); `text` is ORed over the name-like properties, terms are ANDed.
 * `$search` is always an advanced query (needs `ConsistencyLevel: eventual`).
 */
export function compileUserSearch(search: UserSearch | null | undefined): string | null {
  if (!search) return null;
  const clauses: string[] = [];
  const term = (name: string, value: string | null | undefined): string | null => {
    if (value == null) return null;
    const text = value.trim();
    if (text.length === 0) throw badInput(`\`search.${name}\` must not be empty.`);
    if (text.length > QUERY_LIMITS.searchTermLength) {
      throw badInput(
        `\`search.${name}\` is ${text.length} characters long; at most ${QUERY_LIMITS.searchTermLength} are searched (the longest searchable property).`,
      );
    }
    return text;
  };
  const text = term('text', search.text);
  if (text !== null) {
    clauses.push(`(${['displayName', 'mail', 'userPrincipalName'].map((p) => odataSearchClause(p, text)).join(' OR ')})`);
  }
  for (const property of ['displayName', 'mail', 'userPrincipalName', 'jobTitle', 'department'] as const) {
    const value = term(property, search[property]);
    if (value !== null) clauses.push(odataSearchClause(property, value));
  }
  if (clauses.length === 0) return null;
  return clauses.join(' AND ');
}
