import { badInput } from '../errors.js';
import { isGuid, odataString } from '../graph/odata.js';
import type { UserFilter } from '../generated/graphql.js';
import { parseDateTime } from './scalars.js';

/** OData `$filter` text plus whether Graph only accepts it as an advanced query (docs/graph-facts.md#listing-users). */
export interface CompiledFilter {
  text: string;
  advanced: boolean;
}

/** Graph's limit on values in one `in (...)`. */
export const MAX_IN_VALUES = 15;
const MAX_DEPTH = 5;

/**
 * Compiles the typed UserFilter to OData. Every value goes through odataString (quotes doubled), ids
 * must be GUIDs and dates are re-printed from a parsed Date, so no caller text reaches the filter
 * unescaped. Conditions at one level are ANDed; `or`/`not` group with parentheses.
 */
export function compileUserFilter(filter: UserFilter | null | undefined): CompiledFilter | null {
  if (!filter) return null;
  return compileLevel(filter, 0);
}

function compileLevel(filter: UserFilter, depth: number): CompiledFilter | null {
  if (depth > MAX_DEPTH) throw badInput(`\`filter\` nests and/or/not deeper than ${MAX_DEPTH} levels.`);
  const clauses: string[] = [];
  let advanced = false;
  const nonEmpty = (name: string, value: string): string => {
    if (value.length === 0) throw badInput(`\`filter.${name}\` must not be empty.`);
    return value;
  };
  const startsWith = (property: string, name: string, value: string | null | undefined) => {
    if (value == null) return;
    clauses.push(`startsWith(${property},${odataString(nonEmpty(name, value))})`);
  };
  const equals = (property: string, name: string, value: string | null | undefined) => {
    if (value == null) return;
    clauses.push(`${property} eq ${odataString(nonEmpty(name, value))}`);
  };
  const inList = (property: string, name: string, values: readonly string[] | null | undefined, check?: (v: string) => string) => {
    if (values == null) return;
    if (values.length === 0 || values.length > MAX_IN_VALUES) {
      throw badInput(`\`filter.${name}\` takes 1 to ${MAX_IN_VALUES} values, received ${values.length}.`);
    }
    const literals = values.map((v) => odataString(check ? check(v) : nonEmpty(name, v)));
    clauses.push(`${property} in (${literals.join(',')})`);
  };

  startsWith('displayName', 'displayNameStartsWith', filter.displayNameStartsWith);
  startsWith('mail', 'mailStartsWith', filter.mailStartsWith);
  startsWith('userPrincipalName', 'userPrincipalNameStartsWith', filter.userPrincipalNameStartsWith);
  if (filter.mailEndsWith != null) {
    clauses.push(`endsWith(mail,${odataString(nonEmpty('mailEndsWith', filter.mailEndsWith))})`);
    advanced = true;
  }
  equals('department', 'department', filter.department);
  inList('department', 'departmentIn', filter.departmentIn);
  equals('jobTitle', 'jobTitle', filter.jobTitle);
  if (filter.accountEnabled != null) clauses.push(`accountEnabled eq ${filter.accountEnabled ? 'true' : 'false'}`);
  if (filter.userType != null) clauses.push(`userType eq ${odataString(filter.userType)}`);
  inList('id', 'ids', filter.ids, (id) => {
    if (!isGuid(id)) throw badInput('`filter.ids` takes user object ids (GUIDs) only.');
    return id.toLowerCase();
  });
  if (filter.companyName != null) {
    equals('companyName', 'companyName', filter.companyName);
    advanced = true;
  }
  // OData date-time literals are unquoted; re-printing the parsed instant keeps them canonical.
  // Graph's published filter tables disagree on whether createdDateTime ge/le needs an advanced
  // query (docs/graph-facts.md#listing-users); as an advanced query it works under either.
  if (filter.createdAfter != null) {
    clauses.push(`createdDateTime ge ${parseDateTime(filter.createdAfter, 'filter.createdAfter')}`);
    advanced = true;
  }
  if (filter.createdBefore != null) {
    clauses.push(`createdDateTime le ${parseDateTime(filter.createdBefore, 'filter.createdBefore')}`);
    advanced = true;
  }

  const group = (name: 'and' | 'or', parts: readonly UserFilter[] | null | undefined, joiner: ' and ' | ' or ') => {
    if (parts == null) return;
    if (parts.length === 0) throw badInput(`\`filter.${name}\` must hold at least one filter.`);
    const compiled = parts.map((p) => compileLevel(p, depth + 1));
    if (compiled.some((c) => c === null)) throw badInput(`Every filter in \`filter.${name}\` needs at least one condition.`);
    const texts = (compiled as CompiledFilter[]).map((c) => {
      advanced ||= c.advanced;
      return `(${c.text})`;
    });
    clauses.push(texts.length === 1 ? (texts[0] as string) : `(${texts.join(joiner)})`);
  };
  group('and', filter.and, ' and ');
  group('or', filter.or, ' or ');
  if (filter.not != null) {
    const inner = compileLevel(filter.not, depth + 1);
    if (!inner) throw badInput('`filter.not` needs at least one condition.');
    clauses.push(`not (${inner.text})`);
    advanced = true;
  }
  if (clauses.length === 0) return null;
  return { text: clauses.join(' and '), advanced };
}
