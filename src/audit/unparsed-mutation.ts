/**
 * Whether a document the gateway did not (or could not) parse asks for a mutation, judged from its
 * text alone: a document past the parser's token limit, one with a syntax error, or one refused
 * before Apollo saw it (too large, variables too deep, a cross-site request, a mutation by GET, an
 * unknown operationName; docs/security.md#audit-of-refused-requests).
 *
 * One pass over the text, each character looked at once, no regular expression over the caller's
 * text (a pattern over comments that may contain `#` backtracks exponentially on a text that does
 * not match) and no recursion: what GraphQL ignores (spaces, line ends, commas, a byte-order mark,
 * `#` comments) and strings (`"..."`, `"""..."""`, escapes included) are skipped; each top-level
 * definition is told apart by its keyword (`query`, `mutation`, `subscription`, `fragment`, or a
 * bare `{` for a query) and skipped to its closing brace, parentheses and nested braces counted.
 * A mutation is recognised wherever it stands in the document, after queries and fragments too.
 *
 * Of a mutation only its name and the names of its root fields (an alias's field, not the alias;
 * not the fields of a fragment or an inline fragment) are read, and the caller must still check
 * those against the schema before keeping any: nothing else of the text is kept, and the document
 * can hold a password. A truncated text (the start of an oversized body) is read as far as it goes.
 */
export interface UnparsedMutation {
  /** The operation's name, when one follows the keyword: the caller's text (an event keeps it only through auditOperationName, src/audit/event.ts). */
  operationName: string | undefined;
  /** Root field names the mutation selects, distinct, in order, at most MAX_ROOT_FIELDS, each at most MAX_NAME_LENGTH long. */
  rootFields: string[];
}

/** Root field names kept of one mutation; a schema has fewer mutation fields than this. */
export const MAX_ROOT_FIELDS = 64;
/** Longer names are not kept (no field of the schema is this long). */
export const MAX_NAME_LENGTH = 64;

/**
 * The mutation the text asks to run, or nothing. With `operationName`, the definition of that
 * name decides: a mutation is returned, a query or subscription is not; when no definition has
 * that name (Apollo refuses it as unknown), the first mutation of the document is returned, since
 * the document still held one. Without it, the first mutation of the document.
 */
export function unparsedMutationOf(source: string, operationName?: string | null): UnparsedMutation | undefined {
  const scanner = new Scanner(source);
  let first: UnparsedMutation | undefined;
  for (;;) {
    const keyword = scanner.next();
    if (keyword === undefined) return first;
    if (keyword.kind !== 'name' && keyword.text !== '{') {
      // Not the start of a definition: a broken document. Keep reading; a later keyword may start one.
      continue;
    }
    const type = keyword.kind === 'name' ? keyword.text : 'query';
    const definition = scanner.definition(keyword.text === '{', type === 'mutation');
    if (type !== 'mutation' && type !== 'query' && type !== 'subscription') continue;
    if (operationName) {
      if (definition.name === operationName) return type === 'mutation' ? definition.mutation : undefined;
    } else if (type === 'mutation') {
      return definition.mutation;
    }
    if (type === 'mutation') first ??= definition.mutation;
  }
}

interface Token {
  kind: 'name' | 'punctuator' | 'other';
  text: string;
}

class Scanner {
  private i = 0;

  constructor(private readonly source: string) {}

  /** The next token; strings and numbers come back as `other` (their text is not kept). */
  next(): Token | undefined {
    this.skipIgnored();
    const s = this.source;
    if (this.i >= s.length) return undefined;
    const code = s.charCodeAt(this.i);
    if (isNameStart(code)) {
      const start = this.i;
      while (this.i < s.length && isNameCharacter(s.charCodeAt(this.i))) this.i += 1;
      return { kind: 'name', text: this.i - start <= MAX_NAME_LENGTH ? s.slice(start, this.i) : '' };
    }
    if (code === 34 /* " */) {
      this.skipString();
      return { kind: 'other', text: '' };
    }
    if (s.startsWith('...', this.i)) {
      this.i += 3;
      return { kind: 'punctuator', text: '...' };
    }
    this.i += 1;
    return { kind: 'punctuator', text: s[this.i - 1]! };
  }

  /**
   * Reads the rest of a definition whose keyword (or opening brace) was just read, to its closing
   * brace: its name, and for a mutation its root fields.
   */
  definition(openedBrace: boolean, isMutation: boolean): { name: string | undefined; mutation: UnparsedMutation } {
    const rootFields: string[] = [];
    let name: string | undefined;
    let braces = openedBrace ? 1 : 0;
    let parens = 0;
    let previous: Token | undefined;
    let beforePrevious: Token | undefined;
    let pendingField: string | undefined;
    const keepPending = () => {
      if (pendingField && rootFields.length < MAX_ROOT_FIELDS && !rootFields.includes(pendingField)) rootFields.push(pendingField);
      pendingField = undefined;
    };
    for (;;) {
      const token = this.next();
      if (token === undefined) break;
      if (token.kind === 'punctuator') {
        if (token.text === '(') parens += 1;
        else if (token.text === ')') parens = Math.max(0, parens - 1);
        else if (token.text === '{') braces += 1;
        else if (token.text === '}') braces -= 1;
        if (token.text === ':' && parens === 0 && braces === 1)
          pendingField = undefined; // an alias
        else if (braces === 1 && parens === 0) keepPending();
        if (token.text === '}' && braces <= 0 && parens === 0) break;
      } else if (token.kind === 'name') {
        if (braces === 0 && parens === 0 && previous === undefined) name = token.text || undefined;
        else if (isMutation && braces === 1 && parens === 0) {
          keepPending();
          const afterSpread = previous?.text === '...' || (previous?.text === 'on' && beforePrevious?.text === '...');
          if (previous?.text !== '@' && !afterSpread && token.text) pendingField = token.text;
        }
      } else if (braces === 1 && parens === 0) {
        keepPending();
      }
      beforePrevious = previous;
      previous = token;
    }
    keepPending();
    return { name, mutation: { operationName: name, rootFields } };
  }

  private skipIgnored(): void {
    const s = this.source;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',' || c === '\uFEFF') {
        this.i += 1;
      } else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n' && s[this.i] !== '\r') this.i += 1;
      } else {
        break;
      }
    }
  }

  /** Skips a string or a block string starting at `i`, to its end (or the end of the text). */
  private skipString(): void {
    const s = this.source;
    if (s.startsWith('"""', this.i)) {
      this.i += 3;
      while (this.i < s.length) {
        if (s[this.i] === '\\' && s.startsWith('\\"""', this.i)) this.i += 4;
        else if (s.startsWith('"""', this.i)) {
          this.i += 3;
          return;
        } else this.i += 1;
      }
      return;
    }
    this.i += 1;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === '\\') this.i += 2;
      else if (c === '"' || c === '\n' || c === '\r') {
        // A plain string ends at its quote; a line end means it was never closed (a syntax error).
        this.i += 1;
        return;
      } else this.i += 1;
    }
  }
}

function isNameStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

function isNameCharacter(code: number): boolean {
  return isNameStart(code) || (code >= 48 && code <= 57);
}
