import { isUserObject, type GraphUser } from '../graph/api.js';

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

/**
 * The expanded manager (null = none) when the expansion covers `select`; undefined when the loader
 * must be asked. Asking is not enough: Graph's known issues say a `$select` nested in `$expand` may
 * be ignored for directory objects (docs/graph-facts.md#expand-and-page-size), and the manager then
 * comes with its default properties only. A property Graph left out is not a null: the loader asks
 * for it (Graph sends `null` for a selected property without a value).
 */
export function expandedManagerOf(user: GraphUser, select: readonly string[]): GraphUser | null | undefined {
  const expanded = expansions.get(user);
  if (!expanded || !select.every((p) => expanded.has(p))) return undefined;
  const manager = user.manager;
  if (!isGraphUser(manager)) return null;
  return select.every((p) => p in manager) ? manager : undefined;
}

/**
 * True when the user was fetched with `$expand=manager` and the manager is a directory object
 * other than a user (an organizational contact, docs/graph-facts.md#manager-and-bulk-lookup): the
 * User type has no manager to show then, whatever properties were selected.
 */
export function expandedManagerIsNotAUser(user: GraphUser): boolean {
  if (!expansions.has(user)) return false;
  const manager = user.manager;
  return isDirectoryObject(manager) && !isUserObject(manager);
}

/**
 * The object id of an expanded manager that lacks some selected properties (the case
 * `expandedManagerOf` answers undefined for): the loader can then fetch it by id, with the other
 * managers of the page in one `getByIds`, instead of asking for each user's manager.
 */
export function expandedManagerId(user: GraphUser): string | undefined {
  if (!expansions.has(user)) return undefined;
  const manager = user.manager;
  return isGraphUser(manager) ? manager.id : undefined;
}

function isDirectoryObject(value: unknown): value is GraphUser {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}

/** An expanded manager that is a user (a contact counts as no manager for the User type). */
function isGraphUser(value: unknown): value is GraphUser {
  return isDirectoryObject(value) && isUserObject(value);
}
