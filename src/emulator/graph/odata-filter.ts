/**
 * `$filter`: a tokenizer and recursive-descent parser for the subset of OData Graph's directory
 * supports, plus evaluation against records. Which clauses need an advanced query is decided by
 * the entity's filter capabilities (see entities.ts), not here.
 */
import { badRequest } from './errors.js';

export type Literal = string | number | boolean | null | { datetime: string };
export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterNode =
  | { type: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { type: 'not'; operand: FilterNode }
  | { type: 'compare'; op: CompareOp; property: string; value: Literal }
  | { type: 'in'; property: string; values: Literal[] }
  | { type: 'func'; name: 'startswith' | 'endswith'; property: string; value: string }
  | { type: 'any'; property: string; variable: string; body: FilterNode };

type Token =
  | { kind: 'string'; value: string }
  | { kind: 'word'; value: string }
  | { kind: 'number'; value: string }
  | { kind: 'punct'; value: '(' | ')' | ',' | ':' | '/' };

export class FilterSyntaxError extends Error {}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if ('(),:/'.includes(c)) {
      tokens.push({ kind: 'punct', value: c as '(' });
      i += 1;
    } else if (c === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw new FilterSyntaxError('unterminated string literal');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += text[i];
        i += 1;
      }
      tokens.push({ kind: 'string', value });
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?[0-9][0-9A-Za-z:.+-]*/.exec(text.slice(i));
      if (!m) throw new FilterSyntaxError(`unexpected '${c}'`);
      tokens.push({ kind: 'number', value: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$.]*/.exec(text.slice(i))!;
      tokens.push({ kind: 'word', value: m[0] });
      i += m[0].length;
    } else {
      throw new FilterSyntaxError(`unexpected '${c}'`);
    }
  }
  return tokens;
}

const COMPARE_OPS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const DATETIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): FilterNode {
    const node = this.or();
    if (this.pos < this.tokens.length) throw new FilterSyntaxError(`unexpected '${this.tokens[this.pos]!.value}'`);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }
  private isWord(word: string): boolean {
    const t = this.peek();
    return t?.kind === 'word' && t.value.toLowerCase() === word;
  }
  private isPunct(p: string): boolean {
    const t = this.peek();
    return t?.kind === 'punct' && t.value === p;
  }
  private expectPunct(p: string): void {
    if (!this.isPunct(p)) throw new FilterSyntaxError(`expected '${p}'`);
    this.pos += 1;
  }

  private or(): FilterNode {
    let left = this.and();
    while (this.isWord('or')) {
      this.pos += 1;
      left = { type: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): FilterNode {
    let left = this.unary();
    while (this.isWord('and')) {
      this.pos += 1;
      left = { type: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): FilterNode {
    if (this.isWord('not')) {
      this.pos += 1;
      return { type: 'not', operand: this.unary() };
    }
    if (this.isPunct('(')) {
      this.pos += 1;
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    return this.primary();
  }

  private propertyPath(): string {
    const t = this.peek();
    if (t?.kind !== 'word') throw new FilterSyntaxError('expected a property name');
    this.pos += 1;
    let path = t.value;
    while (this.isPunct('/')) {
      const next = this.tokens[this.pos + 1];
      if (next?.kind !== 'word') throw new FilterSyntaxError('expected a property name after /');
      if (next.value.toLowerCase() === 'any' && this.tokens[this.pos + 2]?.value === '(') break;
      this.pos += 2;
      path += `/${next.value}`;
    }
    return path;
  }

  private literal(): Literal {
    const t = this.peek();
    if (!t) throw new FilterSyntaxError('expected a value');
    this.pos += 1;
    if (t.kind === 'string') return t.value;
    if (t.kind === 'number') {
      if (DATETIME.test(t.value)) return { datetime: t.value };
      const n = Number(t.value);
      if (!Number.isFinite(n)) throw new FilterSyntaxError(`invalid literal '${t.value}'`);
      return n;
    }
    if (t.kind === 'word') {
      const w = t.value.toLowerCase();
      if (w === 'true') return true;
      if (w === 'false') return false;
      if (w === 'null') return null;
    }
    throw new FilterSyntaxError(`invalid literal '${t.value}'`);
  }

  private primary(): FilterNode {
    const t = this.peek();
    if (t?.kind === 'word' && (t.value.toLowerCase() === 'startswith' || t.value.toLowerCase() === 'endswith') && this.tokens[this.pos + 1]?.value === '(') {
      this.pos += 2;
      const property = this.propertyPath();
      this.expectPunct(',');
      const value = this.literal();
      if (typeof value !== 'string') throw new FilterSyntaxError(`${t.value} needs a string literal`);
      this.expectPunct(')');
      return { type: 'func', name: t.value.toLowerCase() as 'startswith', property, value };
    }
    const property = this.propertyPath();
    if (this.isPunct('/')) {
      // collection/any(v: body)
      this.pos += 2;
      this.expectPunct('(');
      const v = this.peek();
      if (v?.kind !== 'word') throw new FilterSyntaxError('expected a lambda variable');
      this.pos += 1;
      this.expectPunct(':');
      const body = this.or();
      this.expectPunct(')');
      return { type: 'any', property, variable: v.value, body };
    }
    const opToken = this.peek();
    if (opToken?.kind !== 'word') throw new FilterSyntaxError('expected an operator');
    const op = opToken.value.toLowerCase();
    this.pos += 1;
    if (op === 'in') {
      this.expectPunct('(');
      const values: Literal[] = [this.literal()];
      while (this.isPunct(',')) {
        this.pos += 1;
        values.push(this.literal());
      }
      this.expectPunct(')');
      return { type: 'in', property, values };
    }
    if (!COMPARE_OPS.has(op)) throw new FilterSyntaxError(`unknown operator '${opToken.value}'`);
    return { type: 'compare', op: op as CompareOp, property, value: this.literal() };
  }
}

export function parseFilter(text: string): FilterNode {
  try {
    if (text.trim() === '') throw new FilterSyntaxError('empty filter');
    return new Parser(tokenize(text)).parse();
  } catch (error) {
    if (error instanceof FilterSyntaxError) throw badRequest(`Invalid filter clause: ${error.message}`, 'BadRequest');
    throw error;
  }
}

/** Reads a property (a `/`-separated path) of a record; the lambda variable reads the element. */
export type PropertyReader = (path: string) => unknown;

function normalize(value: unknown): unknown {
  if (typeof value === 'string') return value.toLowerCase();
  return value;
}

function literalValue(lit: Literal): unknown {
  if (lit !== null && typeof lit === 'object') return lit.datetime;
  return lit;
}

function compare(actual: unknown, op: CompareOp, lit: Literal): boolean {
  const expected = literalValue(lit);
  if (lit !== null && typeof lit === 'object') {
    if (typeof actual !== 'string') return op === 'ne';
    const a = Date.parse(actual);
    const b = Date.parse(lit.datetime);
    return { eq: a === b, ne: a !== b, gt: a > b, ge: a >= b, lt: a < b, le: a <= b }[op];
  }
  const a = normalize(actual ?? null);
  const b = normalize(expected);
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    default: {
      if (a === null || b === null) return false;
      const x = a as string | number;
      const y = b as string | number;
      return { gt: x > y, ge: x >= y, lt: x < y, le: x <= y }[op];
    }
  }
}

export function evaluateFilter(node: FilterNode, read: PropertyReader): boolean {
  switch (node.type) {
    case 'and':
      return evaluateFilter(node.left, read) && evaluateFilter(node.right, read);
    case 'or':
      return evaluateFilter(node.left, read) || evaluateFilter(node.right, read);
    case 'not':
      return !evaluateFilter(node.operand, read);
    case 'compare':
      return compare(read(node.property), node.op, node.value);
    case 'in':
      return node.values.some((v) => compare(read(node.property), 'eq', v));
    case 'func': {
      const actual = read(node.property);
      if (typeof actual !== 'string') return false;
      const a = actual.toLowerCase();
      const b = node.value.toLowerCase();
      return node.name === 'startswith' ? a.startsWith(b) : a.endsWith(b);
    }
    case 'any': {
      const items = read(node.property);
      if (!Array.isArray(items)) return false;
      return items.some((item) =>
        evaluateFilter(node.body, (path) =>
          path === node.variable
            ? item
            : path.startsWith(`${node.variable}/`)
              ? (item as Record<string, unknown>)?.[path.slice(node.variable.length + 1)]
              : read(path),
        ),
      );
    }
    default: {
      const exhaustive: never = node;
      return exhaustive;
    }
  }
}
