import type { GraphUser } from '../graph/api.js';

/**
 * Remembers which user objects were fetched with `$expand=manager($select=...)`, and with which
 * properties. The `manager` resolver answers from the expansion when it covers the selection (an
 * absent `manager` then means "no manager"), and goes to the loader otherwise.
 */
const expansions = new WeakMap<object, ReadonlySet<string>>();
/** One set per `$select` list: a page of 100 users marks them all with the list it was fetched with. */
const selectSets = new WeakMap<readonly string[], ReadonlySet<string>>();

export function markManagerExpanded(user: GraphUser, select: readonly string[]): void {
  let properties = selectSets.get(select);
  if (!properties) {
    properties = new Set(select);
    selectSets.set(select, properties);
  }
  expansions.set(user, properties);
}

/** The expanded manager (null = none) when the expansion covers `select`; undefined when the loader must be asked. */
export function expandedManagerOf(user: GraphUser, select: readonly string[]): GraphUser | null | undefined {
  const expanded = expansions.get(user);
  if (!expanded || !select.every((p) => expanded.has(p))) return undefined;
  const manager = user.manager;
  return isGraphUser(manager) ? manager : null;
}

function isGraphUser(value: unknown): value is GraphUser {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}
