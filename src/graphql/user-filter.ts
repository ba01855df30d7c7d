import { badInput } from '../errors.js';
import { odataString } from '../graph/odata.js';
import { isGuid } from '../guid.js';
import type { UserFilter } from '../generated/graphql.js';
import { QUERY_LIMITS } from './query-limits.js';
import { parseDateTime } from './scalars.js';

/** OData `$filter` text plus what decides how Graph must be asked for it (docs/graph-facts.md#listing-users). */
export interface CompiledFilter {
  text: string;
  /** Graph accepts the filter only as an advanced query (an advanced-only condition). */
  advanced: boolean;
  /**
   * Expressions Graph counts against a default query's limit of 15: every `in` value and every
   * other operand of an OR, over the whole filter (the stricter reading, docs/graph-facts.md#listing-users).
   */
  expressions: number;
}

/**
 * The filter as OData sees it: `level` is the conditions of one UserFilter level (ANDed, printed
 * without parentheses), `group` an `and`/`or` list of levels (each part in parentheses).
 */
type FilterNode =
  /** `range`: a createdDateTime ge/le bound, which `negate` refuses. */
  | { kind: 'condition'; text: string; range?: true }
  | { kind: 'in'; text: string; values: number }
  | { kind: 'level'; clauses: FilterNode[] }
  | { kind: 'group'; operator: 'and' | 'or'; parts: FilterNode[] }
  | { kind: 'not'; operand: FilterNode };

/**
 * Compiles the typed UserFilter to OData. Every value goes through odataString (quotes doubled), ids
 * must be GUIDs and dates are re-printed from a parsed Date, so no caller text reaches the filter
 * unescaped. Conditions at one level are ANDed; `or`/`not` group with parentheses. The size limits
 * of QUERY_LIMITS are checked here, before anything is sent.
 */
export function compileUserFilter(filter: UserFilter | null | undefined): CompiledFilter | null {
  if (!filter) return null;
  const state = { advanced: false, conditions: 0 };
  const root = compileLevel(filter, 0, state);
  if (!root) return null;
  return { text: print(root), advanced: state.advanced, expressions: expressionCount(root) };
}

function compileLevel(filter: UserFilter, depth: number, state: { advanced: boolean; conditions: number }): FilterNode | null {
  if (depth > QUERY_LIMITS.filterNesting) throw badInput(`\`filter\` nests and/or/not deeper than ${QUERY_LIMITS.filterNesting} levels.`);
  const clauses: FilterNode[] = [];
  const add = (node: FilterNode) => {
    state.conditions += 1;
    if (state.conditions > QUERY_LIMITS.filterConditions) {
      throw badInput(`\`filter\` holds more than ${QUERY_LIMITS.filterConditions} conditions; split the question into several queries.`);
    }
    clauses.push(node);
  };
  const checked = (name: string, value: string): string => {
    if (value.length === 0) throw badInput(`\`filter.${name}\` must not be empty.`);
    if (value.length > QUERY_LIMITS.filterValueLength) {
      throw badInput(
        `\`filter.${name}\` is ${value.length} characters long; Microsoft Graph compares filter values of at most ${QUERY_LIMITS.filterValueLength} characters.`,
      );
    }
    return value;
  };
  const startsWith = (property: string, name: string, value: string | null | undefined) => {
    if (value == null) return;
    add({ kind: 'condition', text: `startsWith(${property},${odataString(checked(name, value))})` });
  };
  const equals = (property: string, name: string, value: string | null | undefined) => {
    if (value == null) return;
    add({ kind: 'condition', text: `${property} eq ${odataString(checked(name, value))}` });
  };
  const inList = (property: string, name: string, values: readonly string[] | null | undefined, check?: (v: string) => string) => {
    if (values == null) return;
    if (values.length === 0) throw badInput(`\`filter.${name}\` takes at least one value.`);
    const literals = [...new Set(values.map((v) => odataString(check ? check(v) : checked(name, v))))];
    add({ kind: 'in', text: `${property} in (${literals.join(',')})`, values: literals.length });
  };

  startsWith('displayName', 'displayNameStartsWith', filter.displayNameStartsWith);
  startsWith('mail', 'mailStartsWith', filter.mailStartsWith);
  startsWith('userPrincipalName', 'userPrincipalNameStartsWith', filter.userPrincipalNameStartsWith);
  if (filter.mailEndsWith != null) {
    add({ kind: 'condition', text: `endsWith(mail,${odataString(checked('mailEndsWith', filter.mailEndsWith))})` });
    state.advanced = true;
  }
  equals('department', 'department', filter.department);
  inList('department', 'departmentIn', filter.departmentIn);
  equals('jobTitle', 'jobTitle', filter.jobTitle);
  if (filter.accountEnabled != null) add({ kind: 'condition', text: `accountEnabled eq ${filter.accountEnabled ? 'true' : 'false'}` });
  if (filter.userType != null) add({ kind: 'condition', text: `userType eq ${odataString(filter.userType)}` });
  inList('id', 'ids', filter.ids, (id) => {
    if (!isGuid(id)) throw badInput('`filter.ids` takes user object ids (GUIDs) only.');
    return id.toLowerCase();
  });
  if (filter.companyName != null) {
    equals('companyName', 'companyName', filter.companyName);
    state.advanced = true;
  }
  // OData date-time literals are unquoted; re-printing the parsed instant keeps them canonical.
  // createdDateTime ge/le work by default in every published version of Graph's user filter table
  // (docs/graph-facts.md#listing-users), so they stay default queries (which may `$expand`).
  if (filter.createdAfter != null) {
    add({ kind: 'condition', text: `createdDateTime ge ${parseDateTime(filter.createdAfter, 'filter.createdAfter')}`, range: true });
  }
  if (filter.createdBefore != null) {
    add({ kind: 'condition', text: `createdDateTime le ${parseDateTime(filter.createdBefore, 'filter.createdBefore')}`, range: true });
  }

  const group = (operator: 'and' | 'or', parts: readonly UserFilter[] | null | undefined) => {
    if (parts == null) return;
    if (parts.length === 0) throw badInput(`\`filter.${operator}\` must hold at least one filter.`);
    const compiled = parts.map((p) => compileLevel(p, depth + 1, state));
    if (compiled.some((c) => c === null)) throw badInput(`Every filter in \`filter.${operator}\` needs at least one condition.`);
    clauses.push({ kind: 'group', operator, parts: compiled as FilterNode[] });
  };
  group('and', filter.and);
  group('or', filter.or);
  if (filter.not != null) {
    const inner = compileLevel(filter.not, depth + 1, state);
    if (!inner) throw badInput('`filter.not` needs at least one condition.');
    clauses.push(negate(inner));
    state.advanced = true;
  }
  if (clauses.length === 0) return null;
  return { kind: 'level', clauses };
}

/**
 * `not` over `node`, with the negation moved onto single conditions (De Morgan; a double negation
 * cancels). Graph documents `not` per property ("All properties that support the eq operator also
 * support the ne or not operators", with `NOT(companyName eq 'Microsoft')` and `NOT startsWith(...)` as
 * its examples) and never over an and/or group, so the gateway never sends `not (a and b)`
 * (docs/graph-facts.md#listing-users, "`not`"). Nor over a createdDateTime bound (below).
 */
function negate(node: FilterNode): FilterNode {
  switch (node.kind) {
    case 'condition':
      // The same rule ties `not` to `eq` and no example negates a range; the current user table lists
      // createdDateTime with ge/le and no eq, and the emulator refuses `not` over ge/le (the stricter reading).
      // `not (createdDateTime ge X)` is `lt`, which Graph's table does not offer either, so there is no
      // faithful rewrite: refuse before sending rather than get a 400 from one reading and users from the other.
      if (node.range) {
        throw badInput(
          '`filter.not` cannot negate `createdAfter` or `createdBefore`: Microsoft Graph documents `not` only on equality clauses, not on a date range. Use the opposite bound instead (`createdBefore` for "not created after", both inclusive).',
        );
      }
      return { kind: 'not', operand: node };
    case 'in':
      return { kind: 'not', operand: node };
    case 'not':
      return node.operand;
    case 'level':
      return node.clauses.length === 1 ? negate(node.clauses[0]!) : { kind: 'group', operator: 'or', parts: node.clauses.map(negate) };
    case 'group':
      return node.parts.length === 1
        ? negate(node.parts[0]!)
        : { kind: 'group', operator: node.operator === 'and' ? 'or' : 'and', parts: node.parts.map(negate) };
    default: {
      const exhaustive: never = node;
      return exhaustive;
    }
  }
}

function print(node: FilterNode): string {
  switch (node.kind) {
    case 'condition':
    case 'in':
      return node.text;
    case 'level':
      return node.clauses.map(print).join(' and ');
    case 'group': {
      const texts = node.parts.map((p) => `(${print(p)})`);
      return texts.length === 1 ? texts[0]! : `(${texts.join(` ${node.operator} `)})`;
    }
    case 'not':
      return `not (${print(node.operand)})`;
    default: {
      const exhaustive: never = node;
      return exhaustive;
    }
  }
}

/**
 * Expressions as Graph counts them against the default limit: every `in` value, every other
 * operand of an OR (nested ORs flatten, parentheses and one-clause levels are transparent).
 */
function expressionCount(root: FilterNode): number {
  let total = 0;
  const visit = (node: FilterNode, operandOfOr: boolean): void => {
    switch (node.kind) {
      case 'in':
        total += node.values;
        return;
      case 'condition':
        if (operandOfOr) total += 1;
        return;
      case 'level':
        if (node.clauses.length === 1) return visit(node.clauses[0]!, operandOfOr);
        if (operandOfOr) total += 1;
        for (const clause of node.clauses) visit(clause, false);
        return;
      case 'group':
        if (node.parts.length === 1) return visit(node.parts[0]!, operandOfOr);
        if (node.operator === 'or') {
          for (const part of node.parts) visit(part, true);
          return;
        }
        if (operandOfOr) total += 1;
        for (const part of node.parts) visit(part, false);
        return;
      case 'not':
        if (operandOfOr) total += 1;
        visit(node.operand, false);
        return;
      default: {
        const exhaustive: never = node;
        return exhaustive;
      }
    }
  };
  visit(root, false);
  return total;
}
