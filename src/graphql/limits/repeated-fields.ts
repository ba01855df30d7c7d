import { Kind, parse, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { operationTooComplex } from './limit-error.js';

/**
 * Pairs of fields graphql-js may compare, by response path, that a document may ask for.
 *
 * Why: graphql-js's OverlappingFieldsCanBeMergedRule, which Apollo runs on every new document before
 * any plugin sees it (and on every request of a document that fails validation, which is not
 * cached), compares every pair of fields that answer under one response path (the same name in one
 * selection, fragments merged, and then their selections pair by pair): quadratic in them, and
 * multiplied level by level. Within MAX_TOKENS (5000) a document repeating `user(id: "x") { id }`
 * 550 times, or `users { nodes { id } }` 700 times, took 200 to 700 ms of validation on the event
 * loop, for any authenticated caller (validation runs before the permission check); four such
 * requests at a time from one key held another caller's `{ __typename }` for up to 1.6 s; three
 * levels of 16, 8 and 6 fields of one name took 280 ms (docs/security.md#repeated-fields-in-one-selection).
 * Measured on graphql 16: a pair costs 5 to 30 µs (fragments compared with fragments the most), so
 * 500 pairs keep validation to about 15 ms at worst. An operation has no reason to select a field
 * under one response name more than a few times (a field in five fragments spread together is ten
 * pairs): aliases (MAX_ALIASES) give fields names of their own.
 */
export const MAX_FIELD_PAIRS = 500;
/** Field nodes the count may visit (fragments expanded where they are spread); past it the document is refused too. */
export const MAX_FIELD_VISITS = 50_000;

export interface FieldRepetition {
  /** The pairs counted when the count stopped (past MAX_FIELD_PAIRS, or at the end). */
  pairs: number;
  /** The response name selected most often under one path, and how often. */
  responseName: string;
  count: number;
  /** The document expands past MAX_FIELD_VISITS (fragments spread within fragments). */
  tooLarge: boolean;
}

class Stop extends Error {}

/**
 * How many pairs of fields sharing a response path the document holds (each operation, and each
 * fragment on its own, as the rule visits them), stopping past `maxPairs`; undefined when within
 * it. Leaves without arguments (`id`, `__typename`, which clients add to every fragment) are not
 * counted: graphql-js compares them in constant time, thousands in milliseconds.
 */
export function fieldRepetition(document: DocumentNode, limits: { maxPairs?: number; maxVisits?: number } = {}): FieldRepetition | undefined {
  const maxPairs = limits.maxPairs ?? MAX_FIELD_PAIRS;
  const maxVisits = limits.maxVisits ?? MAX_FIELD_VISITS;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  let pairs = 0;
  let visits = 0;
  const worst = { responseName: '', count: 0 };
  let tooLarge = false;

  /** The fields answering under one path: `sets` are the selections merged there; `active` the fragments expanded on the way (a cycle stops). */
  const walk = (sets: readonly SelectionSetNode[], active: ReadonlySet<string>): void => {
    const groups = new Map<string, { count: number; children: SelectionSetNode[] }>();
    const expanded = new Set<string>(active);
    const stack = [...sets];
    while (stack.length > 0) {
      for (const selection of stack.pop()!.selections) {
        if (++visits > maxVisits) {
          tooLarge = true;
          throw new Stop();
        }
        if (selection.kind === Kind.FIELD) {
          if (!selection.selectionSet && (selection.arguments?.length ?? 0) === 0) continue;
          const name = selection.alias?.value ?? selection.name.value;
          let group = groups.get(name);
          if (!group) groups.set(name, (group = { count: 0, children: [] }));
          group.count += 1;
          if (selection.selectionSet) group.children.push(selection.selectionSet);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) stack.push(selection.selectionSet);
        else {
          const fragment = fragments.get(selection.name.value);
          if (!fragment || expanded.has(selection.name.value)) continue;
          expanded.add(selection.name.value);
          stack.push(fragment.selectionSet);
        }
      }
    }
    for (const [name, group] of groups) {
      pairs += (group.count * (group.count - 1)) / 2;
      if (group.count > worst.count) Object.assign(worst, { responseName: name, count: group.count });
      if (pairs > maxPairs) throw new Stop();
      if (group.children.length > 0) walk(group.children, expanded);
    }
  };

  try {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION) walk([definition.selectionSet], new Set());
      else if (definition.kind === Kind.FRAGMENT_DEFINITION) walk([definition.selectionSet], new Set([definition.name.value]));
    }
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return { pairs, ...worst, tooLarge };
  }
  return undefined;
}

/** Query texts already judged within the limit (their characters, as UTF-16, at most this many bytes together). */
const JUDGED_TEXTS_MAX_BYTES = 4 * 2 ** 20;

/**
 * Refuses a GraphQL request whose document holds more than MAX_FIELD_PAIRS pairs of fields sharing a
 * response path (`fieldRepetition`), before Apollo parses and validates it (400
 * OPERATION_TOO_COMPLEX, `reason: "TOO_MANY_FIELD_PAIRS"`). Called by the HTTP layer, which audits the
 * refusal of a mutation document: Apollo turns an error thrown by a plugin before validation into an
 * internal error. The text is parsed here with the parser's token limit (a text that does not parse
 * is left to Apollo, which answers it); a text found within the limit is remembered, so a document
 * sent again is not parsed twice.
 */
export function createFieldRepetitionCheck(options: { maxTokens: number; maxPairs?: number }): (input: { body?: unknown; search?: URLSearchParams }) => void {
  const maxPairs = options.maxPairs ?? MAX_FIELD_PAIRS;
  const judged = new LRUCache<string, true>({ maxSize: JUDGED_TEXTS_MAX_BYTES, sizeCalculation: (_value, text) => 2 * text.length + 64 });
  return (input) => {
    const body = input.body !== null && typeof input.body === 'object' && !Array.isArray(input.body) ? (input.body as Record<string, unknown>) : undefined;
    const query = body ? body.query : input.search?.get('query');
    if (typeof query !== 'string' || query.length === 0 || judged.has(query)) return;
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: options.maxTokens, noLocation: true });
    } catch {
      return;
    }
    const repeated = fieldRepetition(document, { maxPairs });
    if (!repeated) {
      judged.set(query, true);
      return;
    }
    // The name is the caller's text: named only when it is short.
    const which = repeated.responseName.length <= 64 ? `\`${repeated.responseName}\`` : 'one field';
    throw operationTooComplex(
      repeated.tooLarge
        ? 'The operation expands its fragments into too many fields to be checked: spread each fragment fewer times.'
        : `The operation selects fields under one name too many times (${which} ${repeated.count} times under one path): select a field once, or give each its own alias.`,
      { limit: 'maxFieldPairs', max: maxPairs, reason: 'TOO_MANY_FIELD_PAIRS' },
    );
  };
}
