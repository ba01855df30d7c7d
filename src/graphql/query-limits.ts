/**
 * The limits on what a caller can ask the read path for, in one place, each with its reason.
 * All are checked before anything is sent to Microsoft Graph, and each refusal is BAD_USER_INPUT
 * with a message that names the limit. Graph's own limits are in docs/graph-facts.md#listing-users.
 */
export const QUERY_LIMITS = Object.freeze({
  /**
   * Characters in one filter value (`department`, `displayNameStartsWith`, each `departmentIn`
   * value, ...). Graph compares values of at most 120 characters in a default query: longer ones
   * fail with `Request_UnsupportedQuery`, for `eq` and `startsWith` alike.
   */
  filterValueLength: 120,
  /**
   * Characters in one search term. `displayName`, the longest property searched, holds at most 256
   * characters, so a longer term cannot match anything.
   */
  searchTermLength: 256,
  /** Conditions in one UserFilter, all levels together (a list counts once). No screen needs more. */
  filterConditions: 32,
  /** Levels of `and` / `or` / `not` in one UserFilter. */
  filterNesting: 5,
  /**
   * Expressions (each `in` value, each other OR operand) in a default query's `$filter`. Graph
   * refuses a default query with more; an advanced query takes them, bounded by its URL length. So
   * past 15 the gateway sends the list as an advanced query (no `$expand=manager` there).
   */
  defaultQueryExpressions: 15,
  /**
   * Characters in the URL of a list request, Graph's base included. Graph documents 2,048 for
   * advanced queries (the whole URL); it documents no other number, so every list URL is held to
   * it. Sending the URL inside `$batch` only gets around limits of HTTP clients and proxies
   * (docs/graph-facts.md#json-batching), not Graph's own, so the gateway refuses instead.
   */
  graphUrlLength: 2048,
  /**
   * Nesting of the request's `variables` (and `extensions`) JSON: objects and arrays. The deepest
   * input the schema takes, a UserFilter at its nesting limit, is 13 levels deep; deeper JSON is
   * refused before graphql-js coerces it (coercion and estimates recurse per level).
   */
  variablesDepth: 32,
});
