/**
 * Graph's documented limits on collection queries (docs/graph-facts.md#listing-users), enforced as
 * strictly as the documentation can be read:
 * - a default (non-advanced) `$filter` holds at most 15 expressions: `in` counts its values, an OR
 *   its operands. Graph's error names the children of an OR ("containing 'OR' operators: 16"); the
 *   documentation speaks of 15 expressions "in the filter clause", so they are counted over the whole
 *   clause, the stricter reading;
 * - a default `$filter` compares values of at most 120 characters (`eq`, and `startsWith` answers the
 *   same error past 120);
 * - an advanced query is limited by its URL instead: at most 2,048 characters, the whole URL;
 * - `$search` on v1.0 fails when its value holds an encoded `&` (`%26`), unless the request says
 *   `Prefer: legacySearch=false`.
 */
import type { GraphCall } from './call.js';
import type { EntityType } from './entities.js';
import { badRequest, unsupportedQuery } from './errors.js';
import type { FilterNode, Literal } from './odata-filter.js';

export const MAX_DEFAULT_FILTER_EXPRESSIONS = 15;
export const MAX_DEFAULT_FILTER_VALUE_LENGTH = 120;
export const MAX_ADVANCED_QUERY_URL_LENGTH = 2048;

/** Expressions Graph counts against the default limit: every `in` value, every other OR operand. */
export function filterExpressionCount(node: FilterNode): number {
  let total = 0;
  const visit = (n: FilterNode, operandOfOr: boolean): void => {
    switch (n.type) {
      case 'or':
        visit(n.left, true);
        visit(n.right, true);
        return;
      case 'in':
        total += n.values.length;
        return;
      case 'and':
        if (operandOfOr) total += 1;
        visit(n.left, false);
        visit(n.right, false);
        return;
      case 'not':
        if (operandOfOr) total += 1;
        visit(n.operand, false);
        return;
      case 'any':
        if (operandOfOr) total += 1;
        visit(n.body, false);
        return;
      case 'compare':
      case 'func':
        if (operandOfOr) total += 1;
        return;
      default: {
        const exhaustive: never = n;
        return exhaustive;
      }
    }
  };
  visit(node, false);
  return total;
}

/** The limits of a default query's `$filter`: 15 expressions, values of at most 120 characters. */
export function assertDefaultFilterLimits<R>(entity: EntityType<R>, node: FilterNode): void {
  const expressions = filterExpressionCount(node);
  if (expressions > MAX_DEFAULT_FILTER_EXPRESSIONS) {
    throw unsupportedQuery(
      `Too many child clauses specified in search filter expression containing 'OR' operators: ${expressions}. Max allowed: ${MAX_DEFAULT_FILTER_EXPRESSIONS}.`,
    );
  }
  const tooLong = (value: Literal | string): boolean => typeof value === 'string' && value.length > MAX_DEFAULT_FILTER_VALUE_LENGTH;
  const visit = (n: FilterNode): void => {
    switch (n.type) {
      case 'and':
      case 'or':
        visit(n.left);
        visit(n.right);
        return;
      case 'not':
        visit(n.operand);
        return;
      case 'any':
        visit(n.body);
        return;
      case 'compare':
      case 'func':
        if (tooLong(n.value)) throw unsupportedClause(entity, n.property);
        return;
      case 'in':
        if (n.values.some(tooLong)) throw unsupportedClause(entity, n.property);
        return;
      default: {
        const exhaustive: never = n;
        return exhaustive;
      }
    }
  };
  visit(node);
}

function unsupportedClause<R>(entity: EntityType<R>, property: string) {
  return unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${property}' of resource '${entity.resourceName}'.`);
}

/** The URL as the client sent it (origin, path and query, still percent-encoded). */
export function requestUrlLength(call: GraphCall): number {
  return `${call.ctx.origin}${call.req.rawPath}${call.req.rawQuery}`.length;
}

/** An advanced query's URL holds at most 2,048 characters. */
export function assertAdvancedQueryUrlLength(call: GraphCall): void {
  const length = requestUrlLength(call);
  if (length > MAX_ADVANCED_QUERY_URL_LENGTH) {
    // Graph documents the limit, not its error text: this message is the emulator's own.
    throw unsupportedQuery(`The request URL is ${length} characters long; advanced queries accept at most ${MAX_ADVANCED_QUERY_URL_LENGTH}.`);
  }
}

/** The raw (still percent-encoded) value of a query parameter, `$`-prefixed or not. */
function rawQueryValue(call: GraphCall, name: string): string | undefined {
  const bare = name.replace(/^\$/, '');
  for (const part of call.req.rawQuery.replace(/^\?/, '').split('&')) {
    const eq = part.indexOf('=');
    const key = decodeURIComponentSafe(eq < 0 ? part : part.slice(0, eq));
    if (key === name || key === bare) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Whether the request asked for `Prefer: legacySearch=false` (one preference among others, any case). */
function prefersModernSearch(call: GraphCall): boolean {
  const prefer = call.req.headers.prefer ?? '';
  return prefer.split(',').some((p) => /^\s*legacysearch\s*=\s*"?false"?\s*$/i.test(p));
}

/** v1.0 `$search` with an encoded `&` fails unless the caller opted out of the legacy search. */
export function assertSearchEncodingAccepted(call: GraphCall): void {
  if (call.version !== 'v1.0') return;
  const raw = rawQueryValue(call, '$search');
  if (raw === undefined || !/%26/i.test(raw)) return;
  if (prefersModernSearch(call)) return;
  throw badRequest("Unrecognized query argument specified: ''.");
}
