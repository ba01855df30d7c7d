import { badInput } from '../errors.js';

/**
 * OData literal escaping for the GraphQL layer's filter and search compiler. Values are escaped
 * here, never concatenated raw, so a caller's string can only ever be a literal.
 */

// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_LITERALS = /[\u0000-\u001f\u007f]/;

function assertPrintable(value: string, what: string): void {
  if (typeof value !== 'string') throw badInput(`${what} must be a string.`);
  if (FORBIDDEN_IN_LITERALS.test(value)) throw badInput(`${what} must not contain control characters or null bytes.`);
}

/** An OData string literal: `'...'` with single quotes doubled (`'let''s meet'`). */
export function odataString(value: string): string {
  assertPrintable(value, 'A filter value');
  return `'${value.replace(/'/g, "''")}'`;
}

/** Property names come from the schema, but a compiler bug must not become an injection. */
const ODATA_PROPERTY = /^[A-Za-z][A-Za-z0-9_]*(\/[A-Za-z][A-Za-z0-9_]*)*$/;

export function assertODataProperty(property: string): void {
  if (!ODATA_PROPERTY.test(property)) throw badInput(`'${property.slice(0, 64)}' is not a property the gateway can filter or search on.`);
}

/**
 * One `$search` clause: `"property:text"`, with `"` and `\` escaped by a backslash (docs/graph-facts.md#listing-users).
 * Percent-encoding of the rest happens when the query string is built.
 */
export function odataSearchClause(property: string, text: string): string {
  assertODataProperty(property);
  assertPrintable(text, 'A search text');
  return `"${property}:${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
