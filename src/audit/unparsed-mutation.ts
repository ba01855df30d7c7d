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
 * Of a mutation only its name and the names of its root fields (an alias's field, not the alias)
 * are read, through inline fragments at its root and through fragment spreads there: the root
 * selection of each fragment definition (at most MAX_FRAGMENTS, MAX_SPREADS spreads each) is
 * collected in the same pass, and after it the mutation's spreads are followed over that small
 * collection, each fragment once (a cycle ends), never over the text again. The caller must still
 * check the names against the schema before keeping any: nothing else of the text is kept, and the
 * document can hold a password. A truncated text (the start of an oversized body) is read as far
 * as it goes.
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
 * Fragment definitions remembered, the first of each name, in document order; later ones are read
 * past and not followed. Each is followed at most once, so this bounds the depth of spreads too.
 */
export const MAX_FRAGMENTS = 256;
/** Distinct fragment spreads kept of one selection (the mutation's root or a fragment's). */
export const MAX_SPREADS = 64;

/**
 * The mutation the text asks to run, or nothing. With `operationName`, the definition of that
 * name decides: a mutation is returned, a query or subscription is not; when no definition has
 * that name (Apollo refuses it as unknown), the first mutation of the document is returned, since
 * the document still held one. Without it, the first mutation of the document. The whole text is
 * read either way (one pass), since a fragment the mutation spreads may be defined after it.
 */
export function unparsedMutationOf(source: string, operationName?: string | null): UnparsedMutation | undefined {
  const scanner = new Scanner(source);
  const fragments = new Map<string, RootItem[]>();
  let first: Definition | undefined;
  let chosen: Definition | undefined;
  let decided = false;
  for (;;) {
    const keyword = scanner.next();
    if (keyword === undefined) break;
    if (keyword.kind !== 'name' && keyword.text !== '{') {
      // Not the start of a definition: a broken document. Keep reading; a later keyword may start one.
      continue;
    }
    const type = keyword.kind === 'name' ? keyword.text : 'query';
    const definition = scanner.definition(keyword.text === '{', type === 'mutation' || type === 'fragment');
    if (type === 'fragment') {
      if (definition.name && !fragments.has(definition.name) && fragments.size < MAX_FRAGMENTS) fragments.set(definition.name, definition.root);
      continue;
    }
    if (type !== 'mutation' && type !== 'query' && type !== 'subscription') continue;
    if (decided) continue;
    if (operationName) {
      if (definition.name === operationName) {
        decided = true;
        chosen = type === 'mutation' ? definition : undefined;
      }
    } else if (type === 'mutation') {
      decided = true;
      chosen = definition;
    }
    if (type === 'mutation') first ??= definition;
  }
  const picked = decided ? chosen : first;
  if (!picked) return undefined;
  return { operationName: picked.name, rootFields: resolveSpreads(picked.root, fragments) };
}

/** A field name or a fragment spread, as it stands at the root of a selection set. */
interface RootItem {
  spread: boolean;
  name: string;
}

interface Definition {
  name: string | undefined;
  root: RootItem[];
}

/**
 * The root fields of a mutation, its fragment spreads followed (a spread inside an inline fragment
 * or a fragment too), in document order, each fragment once: a cycle ends where it closes, a spread
 * of an unknown fragment adds nothing. No recursion: an explicit stack, never deeper than
 * MAX_FRAGMENTS + 1 since a fragment is entered once; the work is at most every remembered
 * fragment's items once.
 */
function resolveSpreads(root: RootItem[], fragments: ReadonlyMap<string, RootItem[]>): string[] {
  const fields: string[] = [];
  const entered = new Set<string>();
  const stack: Array<{ items: RootItem[]; next: number }> = [{ items: root, next: 0 }];
  while (stack.length > 0 && fields.length < MAX_ROOT_FIELDS) {
    const top = stack[stack.length - 1]!;
    const item = top.items[top.next];
    if (item === undefined) {
      stack.pop();
      continue;
    }
    top.next += 1;
    if (!item.spread) {
      if (!fields.includes(item.name)) fields.push(item.name);
      continue;
    }
    const fragment = fragments.get(item.name);
    if (fragment && !entered.has(item.name)) {
      entered.add(item.name);
      stack.push({ items: fragment, next: 0 });
    }
  }
  return fields;
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
   * brace: its name, and with `readRoot` (a mutation, a fragment) what its root selection set holds:
   * field names (an alias's field, not the alias) and fragment spreads, the fields of inline
   * fragments at the root included (`... on Mutation { f }`, `... @include(if: $x) { f }`), nothing
   * from a field's own selection set, arguments or directives.
   */
  definition(openedBrace: boolean, readRoot: boolean): Definition {
    const root: RootItem[] = [];
    let fieldCount = 0;
    let spreadCount = 0;
    let name: string | undefined;
    let braces = openedBrace ? 1 : 0;
    let parens = 0;
    /** Braces of inline fragments at the root, counted from the definition's own: their fields are root fields. */
    let inline = 0;
    /** After `...` (a spread's name or `on` comes next), after `on` (a type), or before an inline fragment's `{`. */
    let spreadState: 'none' | 'dots' | 'on' | 'inline' = 'none';
    let afterAt = false;
    let first = true;
    let pendingField: string | undefined;
    const keep = (item: RootItem) => {
      if (!item.name) return;
      if (item.spread ? spreadCount >= MAX_SPREADS : fieldCount >= MAX_ROOT_FIELDS) return;
      if (root.some((r) => r.spread === item.spread && r.name === item.name)) return;
      root.push(item);
      if (item.spread) spreadCount += 1;
      else fieldCount += 1;
    };
    for (;;) {
      const token = this.next();
      if (token === undefined) break;
      const atRoot = readRoot && braces >= 1 && parens === 0 && braces === 1 + inline;
      if (pendingField !== undefined) {
        // A name followed by `:` was an alias; by anything else, the field itself.
        if (!(atRoot && token.text === ':')) keep({ spread: false, name: pendingField });
        pendingField = undefined;
      }
      const directiveName = afterAt && token.kind === 'name';
      afterAt = token.text === '@' && token.kind === 'punctuator';
      if (token.kind === 'punctuator') {
        if (token.text === '(') parens += 1;
        else if (token.text === ')') parens = Math.max(0, parens - 1);
        else if (token.text === '{') {
          if (atRoot && (spreadState === 'dots' || spreadState === 'inline')) inline += 1;
          braces += 1;
        } else if (token.text === '}') {
          braces -= 1;
          if (inline > Math.max(0, braces - 1)) inline = Math.max(0, braces - 1);
        }
        if (atRoot && token.text === '...') spreadState = 'dots';
        else if (atRoot && token.text !== '@' && token.text !== '(' && token.text !== ')') spreadState = 'none';
        if (token.text === '}' && braces <= 0 && parens === 0) break;
      } else if (token.kind === 'name') {
        if (braces === 0 && parens === 0 && first) name = token.text || undefined;
        else if (atRoot && !directiveName) {
          if (spreadState === 'dots') {
            if (token.text === 'on') spreadState = 'on';
            else {
              keep({ spread: true, name: token.text });
              spreadState = 'none';
            }
          } else if (spreadState === 'on') {
            spreadState = 'inline';
          } else {
            // A field; after an inline fragment's type with no `{` (a broken document) too.
            if (token.text) pendingField = token.text;
            spreadState = 'none';
          }
        }
      } else if (atRoot) {
        spreadState = 'none';
      }
      first = false;
    }
    if (pendingField !== undefined) keep({ spread: false, name: pendingField });
    return { name, root };
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
