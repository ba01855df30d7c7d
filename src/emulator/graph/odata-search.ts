/**
 * `$search` for directory objects: `"prop:text"` clauses joined by AND / OR with parentheses.
 * displayName (and description) use token matching; other string properties act like startsWith
 * (docs/graph-facts.md#listing-users).
 */
import { badRequest } from './errors.js';
import { readPath } from './entities.js';

export type SearchNode = { type: 'clause'; property: string; text: string } | { type: 'and' | 'or'; left: SearchNode; right: SearchNode };

type Token = { kind: 'clause'; value: string } | { kind: 'op'; value: 'AND' | 'OR' } | { kind: 'paren'; value: '(' | ')' };

const syntaxError = (detail: string) => badRequest(`Syntax error: ${detail} in $search.`, 'Request_UnsupportedQuery');

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i += 1;
    else if (c === '(' || c === ')') {
      tokens.push({ kind: 'paren', value: c });
      i += 1;
    } else if (c === '"') {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw syntaxError('unterminated quoted clause');
        const ch = text[i]!;
        if (ch === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (ch === '"') {
          i += 1;
          break;
        } else {
          value += ch;
          i += 1;
        }
      }
      tokens.push({ kind: 'clause', value });
    } else {
      const m = /^[A-Za-z]+/.exec(text.slice(i));
      if (m && (m[0] === 'AND' || m[0] === 'OR')) {
        tokens.push({ kind: 'op', value: m[0] });
        i += m[0].length;
      } else throw syntaxError(`character '${c}' is not valid outside a quoted clause`);
    }
  }
  return tokens;
}

export function parseSearch(text: string, isKnownProperty: (name: string) => string | undefined): SearchNode {
  const tokens = tokenize(text);
  let pos = 0;
  const or = (): SearchNode => {
    let left = and();
    while (tokens[pos]?.kind === 'op' && tokens[pos]!.value === 'OR') {
      pos += 1;
      left = { type: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): SearchNode => {
    let left = primary();
    while (tokens[pos]?.kind === 'op' && tokens[pos]!.value === 'AND') {
      pos += 1;
      left = { type: 'and', left, right: primary() };
    }
    return left;
  };
  const primary = (): SearchNode => {
    const t = tokens[pos];
    if (!t) throw syntaxError('unexpected end');
    pos += 1;
    if (t.kind === 'paren' && t.value === '(') {
      const inner = or();
      if (tokens[pos]?.value !== ')') throw syntaxError("expected ')'");
      pos += 1;
      return inner;
    }
    if (t.kind !== 'clause') throw syntaxError(`unexpected '${t.value}'`);
    const colon = t.value.indexOf(':');
    if (colon <= 0) throw badRequest('Search on directory objects needs a property name: use "property:text".', 'Request_UnsupportedQuery');
    const name = t.value.slice(0, colon);
    const property = isKnownProperty(name);
    if (!property) throw badRequest(`Could not find a property named '${name}' on type 'microsoft.graph.user'.`);
    return { type: 'clause', property, text: t.value.slice(colon + 1) };
  };
  const node = or();
  if (pos < tokens.length) throw syntaxError(`unexpected '${tokens[pos]!.value}'`);
  return node;
}

/** Splits on spaces, symbols, digit runs and lower→upper case changes ("JohnSmith42" → john, smith, 42). */
export function searchTokens(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Za-z])([0-9])/g, '$1 $2')
    .replace(/([0-9])([A-Za-z])/g, '$1 $2')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((t) => t.toLowerCase());
}

const TOKENIZED = new Set(['displayName', 'description']);

export function matchesSearch(node: SearchNode, obj: Record<string, unknown>): boolean {
  if (node.type !== 'clause') {
    return node.type === 'and'
      ? matchesSearch(node.left, obj) && matchesSearch(node.right, obj)
      : matchesSearch(node.left, obj) || matchesSearch(node.right, obj);
  }
  const clause = node;
  const value = readPath(obj, clause.property);
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => {
    if (typeof v !== 'string') return false;
    if (TOKENIZED.has(clause.property)) {
      const have = searchTokens(v);
      const want = searchTokens(clause.text);
      return want.length > 0 && want.every((w) => have.some((h) => h.startsWith(w)));
    }
    return v.toLowerCase().startsWith(clause.text.toLowerCase());
  });
}
