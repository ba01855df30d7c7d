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
 * collection, each fragment once (a cycle ends), never over the text again. What lies past those
 * bounds is not followed, and the result says so (`incomplete`): the reader only decides whether a
 * refused request, which never runs, leaves an audit event and what it names, so past a bound the
 * caller audits the worst case rather than nothing (before, a field past a bound left no event: 256
 * harmless fragments ahead of the one holding it were enough). The caller must still
 * check the names against the schema before keeping any: nothing else of the text is kept, and the
 * document can hold a password. A truncated text (the start of an oversized body) is read as far
 * as it goes.
 */
export interface UnparsedMutation {
  /** The operation's name, when one follows the keyword: the caller's text (an event keeps it only through auditOperationName, src/audit/event.ts). */
  operationName: string | undefined;
  /** Root field names the mutation selects, distinct, in order, at most MAX_ROOT_FIELDS, each at most MAX_NAME_LENGTH long. */
  rootFields: string[];
  /**
   * Present when a bound kept the reader from following all of the mutation's root selection (more
   * than MAX_FRAGMENTS fragment definitions, MAX_SPREADS spreads or MAX_ROOT_FIELDS fields in one
   * selection, more than MAX_MUTATIONS mutations): it may select fields not in `rootFields`, so
   * the caller must treat it as selecting any of them (docs/security.md#audit-of-refused-requests).
   */
  incomplete?: true;
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
/** Mutation definitions remembered; a document with more is read as incomplete. */
export const MAX_MUTATIONS = 64;

/**
 * The mutation the text asks to run, or nothing, read as the worst case wherever the document is
 * ambiguous (it is refused and never runs; what is audited is what it could have asked for):
 *
 * - With `operationName`, every mutation of that name (a document may define one name twice); a
 *   query or subscription of that name and no mutation of it: nothing. When no definition has
 *   that name (Apollo refuses it as unknown), or without `operationName`: every mutation of the
 *   document (a document of several operations without a name is refused too). Before, the first
 *   mutation only: `mutation A { __typename } mutation B { terminateSession }` left no event.
 * - A fragment defined twice under one name contributes both definitions (before, the first only:
 *   a harmless first definition hid the second).
 * - A fragment's type condition is not read: a root field of a fragment on any type counts. That
 *   can only add a name to the event (one the caller wrote at the root of a fragment the mutation
 *   spreads), never hide one; a document with a wrong type condition is refused anyway.
 * - Past a bound (see `incomplete`) the result says so instead of silently leaving fields out.
 *
 * The whole text is read either way (one pass), since a fragment may be defined after its use.
 */
export function unparsedMutationOf(source: string, operationName?: string | null): UnparsedMutation | undefined {
  const scanner = new Scanner(source);
  const fragments = new Map<string, Definition>();
  let fragmentsDropped = false;
  const mutations: Definition[] = [];
  let mutationsDropped = false;
  /** Whether a query or subscription carries `operationName`. */
  let otherNamed = false;
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
      if (!definition.name) continue;
      const known = fragments.get(definition.name);
      if (known) merge(known, definition);
      else if (fragments.size < MAX_FRAGMENTS) fragments.set(definition.name, definition);
      else fragmentsDropped = true;
      continue;
    }
    if (type === 'mutation') {
      if (mutations.length < MAX_MUTATIONS) mutations.push(definition);
      else mutationsDropped = true;
    } else if ((type === 'query' || type === 'subscription') && operationName && definition.name === operationName) {
      otherNamed = true;
    }
  }
  let picked = operationName ? mutations.filter((m) => m.name === operationName) : [];
  if (picked.length === 0) {
    if (operationName && otherNamed && !mutationsDropped) return undefined;
    picked = mutations;
  }
  if (picked.length === 0) return undefined;
  const root: RootItem[] = [];
  for (const definition of picked) for (const item of definition.root) if (!root.some((r) => r.spread === item.spread && r.name === item.name)) root.push(item);
  const resolved = resolveSpreads(root, fragments, fragmentsDropped);
  const names = new Set(picked.map((m) => m.name));
  const incomplete = mutationsDropped || resolved.incomplete || picked.some((m) => m.truncated);
  return {
    operationName: names.size === 1 ? picked[0]!.name : undefined,
    rootFields: resolved.fields,
    ...(incomplete ? { incomplete: true as const } : {}),
  };
}

/** Adds `more`'s root items to `into` (a fragment defined twice), within the bounds of one selection. */
function merge(into: Definition, more: Definition): void {
  if (more.truncated) into.truncated = true;
  for (const item of more.root) {
    if (into.root.some((r) => r.spread === item.spread && r.name === item.name)) continue;
    if (into.root.filter((r) => r.spread === item.spread).length >= (item.spread ? MAX_SPREADS : MAX_ROOT_FIELDS)) {
      into.truncated = true;
      continue;
    }
    into.root.push(item);
  }
}

/** A field name or a fragment spread, as it stands at the root of a selection set. */
interface RootItem {
  spread: boolean;
  name: string;
}

interface Definition {
  name: string | undefined;
  root: RootItem[];
  /** A bound (MAX_ROOT_FIELDS, MAX_SPREADS) left items of its root selection out. */
  truncated: boolean;
}

/**
 * The root fields of a mutation, its fragment spreads followed (a spread inside an inline fragment
 * or a fragment too), in document order, each fragment once: a cycle ends where it closes, a spread
 * of an unknown fragment adds nothing. No recursion: an explicit stack, never deeper than
 * MAX_FRAGMENTS + 1 since a fragment is entered once; the work is at most every remembered
 * fragment's items once.
 */
function resolveSpreads(root: RootItem[], fragments: ReadonlyMap<string, Definition>, fragmentsDropped: boolean): { fields: string[]; incomplete: boolean } {
  const fields: string[] = [];
  const entered = new Set<string>();
  let incomplete = false;
  const stack: Array<{ items: RootItem[]; next: number }> = [{ items: root, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const item = top.items[top.next];
    if (item === undefined) {
      stack.pop();
      continue;
    }
    top.next += 1;
    if (!item.spread) {
      if (fields.includes(item.name)) continue;
      if (fields.length >= MAX_ROOT_FIELDS) {
        // More fields than are kept: the rest may hold any.
        incomplete = true;
        break;
      }
      fields.push(item.name);
      continue;
    }
    const fragment = fragments.get(item.name);
    // A spread of a fragment not remembered: past MAX_FRAGMENTS it may be one that was read past.
    if (!fragment) incomplete ||= fragmentsDropped;
    else if (!entered.has(item.name)) {
      entered.add(item.name);
      incomplete ||= fragment.truncated;
      stack.push({ items: fragment.root, next: 0 });
    }
  }
  return { fields, incomplete };
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
    let truncated = false;
    let pendingField: string | undefined;
    const keep = (item: RootItem) => {
      if (!item.name) return;
      if (root.some((r) => r.spread === item.spread && r.name === item.name)) return;
      if (item.spread ? spreadCount >= MAX_SPREADS : fieldCount >= MAX_ROOT_FIELDS) {
        truncated = true;
        return;
      }
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
    return { name, root, truncated };
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
