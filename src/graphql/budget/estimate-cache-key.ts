import { QUERY_LIMITS } from '../query-limits.js';
import { isGuidId } from './planning-rules.js';

/** Keys longer than this are not cached: such variables are rare and each would be a new entry. */
export const MAX_CACHED_VARIABLES_LENGTH = 2_048;

const ENUM_SHAPE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Thrown inside the walk when the key would exceed its limit or the variables nest too deeply. */
class NotCacheable extends Error {}

/**
 * Cache key of an upstream-request estimate within one document; undefined = too large (or deep)
 * to be worth keeping. `operation` says which operation of the document runs (the budget plugin
 * passes its position, never the caller's name for it: src/graphql/budget/plugin.ts).
 *
 * The key is what of the variables the estimate can depend on: the planning rules read numbers
 * (`first`), presence (`after`, `search`, filter keys), enum values (`orderBy.field`) and whether an
 * id is a GUID, never the text of other strings, so a lookup per user id is not a cache miss.
 * "Is a GUID" is the rules' own `isGuidId` (trimmed, as the resolvers read ids): two values the key
 * tells apart differently from the rules would let one request cache a cheap estimate for another
 * that costs more (docs/security.md#the-upstream-budget-and-its-cache).
 *
 * Why written out by hand instead of `JSON.stringify` of a shape object: the walk stops as soon as
 * the key passes its limit. Building the whole shape first cost every request with large variables
 * a copy of them (about 40 ms of event loop per 800 KB of list variables, from any caller, before
 * the permission check's answer was sent), only to throw the key away.
 */
export function estimateCacheKey(operation: string | null | undefined, variables: Record<string, unknown> | null): string | undefined {
  if (!variables) return `${operation ?? ''}\u0000`;
  const parts: string[] = [];
  let length = 0;
  const push = (text: string): void => {
    length += text.length;
    if (length > MAX_CACHED_VARIABLES_LENGTH) throw new NotCacheable();
    parts.push(text);
  };
  const walk = (value: unknown, depth: number): void => {
    // The HTTP layer refuses deeper variables; this keeps the walk bounded whoever calls it.
    if (depth > QUERY_LIMITS.variablesDepth) throw new NotCacheable();
    if (typeof value === 'string') return push(isGuidId(value) ? '"\u0001guid"' : ENUM_SHAPE.test(value) ? JSON.stringify(value) : '"\u0001text"');
    if (Array.isArray(value)) {
      push('[');
      for (let i = 0; i < value.length; i++) {
        if (i > 0) push(',');
        walk(value[i], depth + 1);
      }
      return push(']');
    }
    if (value !== null && typeof value === 'object') {
      push('{');
      let first = true;
      for (const key of Object.keys(value)) {
        push(`${first ? '' : ','}${JSON.stringify(key)}:`);
        first = false;
        walk((value as Record<string, unknown>)[key], depth + 1);
      }
      return push('}');
    }
    // Numbers, booleans, null; undefined (not in parsed JSON) and anything else keyed by its type.
    push(value === undefined || typeof value === 'function' || typeof value === 'symbol' ? 'null' : String(value));
  };
  try {
    walk(variables, 0);
  } catch (error) {
    if (error instanceof NotCacheable) return undefined;
    throw error;
  }
  return `${operation ?? ''}\u0000${parts.join('')}`;
}
