import type { UserFilter, UserOrder, UserSearch } from '../../generated/graphql.js';
import { compileUserFilter } from '../user-filter.js';
import { compileUserOrder } from '../user-order.js';
import { DELTA_PAGES_PER_CALL } from '../user-changes.js';
import { compileUserSearch } from '../user-search.js';
import { EXPANDED_PAGE_SIZE, isAdvancedUsersQuery } from '../users-query.js';
import { USER_FIELD_TO_GRAPH } from '../select.js';
import { isGuid } from '../../guid.js';
import { GRAPH_BATCH_LIMIT } from '../../graph/batch-envelope.js';
import { GET_BY_IDS_LIMIT, MAX_PAGE_SIZE } from '../../graph/requests.js';

/**
 * How many upstream Graph requests each field costs, mirroring the request planning of the GraphQL
 * layer and the Graph client (docs/design.md):
 * - `user(id:)` lookups of one operation go through one DataLoader: GUIDs collapse into one
 *   `getByIds` (≤ 1000 ids), userPrincipalNames into `$batch` (≤ 20 per POST); a lookup that also
 *   selects `manager` is sent as a `$batch` item with `$expand=manager`;
 * - `users(...)` is one list request per page; `manager` under it is `$expand`ed for free unless the
 *   query is an advanced one (Graph allows no `$expand` there), and a page of more than 100 with
 *   `$expand` takes one request per 100 (Graph pages with `$expand` hold at most 100);
 * - `manager`, `directReports`, `memberOf`, `ownedDevices` and `authenticationMethods` of N parents
 *   go through DataLoaders over one shared `$batch` queue: ceil(N / 20) requests per field (the
 *   managers of direct reports are their N parents, deduplicated by the loader). Fields resolved
 *   in the same turn share POSTs, so the real count can be lower, never higher; a first page the
 *   caller continues with `after` is one plain request; authentication methods are assumed to
 *   fit one page (further pages are followed per user, and are rare);
 * - `userChanges` reads at most DELTA_PAGES_PER_CALL pages of the delta feed per call;
 * - `_entities` (FEDERATION=true) costs its User references as that many `user(id:)` lookups by GUID.
 * Every count is an upper bound for one execution without faults (retries come on top).
 */

/**
 * Where a set of parent objects came from: decides whether `manager` is already there
 * (`expandable-list`, `manager-expanded`) or how many distinct managers there can be
 * (`direct-reports`: the reports of N users have at most those N managers, and the loaders dedupe).
 */
export type ParentSource = 'expandable-list' | 'manager-expanded' | 'direct-reports' | 'other';

/** One place a field appears, with the number of parent objects it is resolved for. */
export interface FieldOccurrence {
  /** Coerced arguments (defaults applied). */
  args: Record<string, unknown>;
  /** Parent objects this occurrence is resolved for (upper bound). */
  parents: number;
  source: ParentSource;
  /** For `direct-reports` parents: the distinct managers they can have. */
  distinctManagers?: number;
  /** Names of the fields selected directly under this field (fragments flattened). */
  childFieldNames: ReadonlySet<string>;
  /** For connections: names of the fields selected under `nodes` and `edges { node }`. */
  nodeFieldNames?: ReadonlySet<string>;
}

export interface FieldPlan {
  /** Upstream requests for all occurrences of the field at this path together. */
  requests: number;
  /** Objects each occurrence yields for its own selection, and where they came from. */
  children(occurrence: FieldOccurrence): ChildSet;
  /**
   * The plan read text arguments that do not compile (a blank or too long search term, say): the
   * field fails before Graph, so any count will do for it, but the count depends on text the
   * estimate cache key does not keep, and must not be reused for valid text of the same shape.
   */
  argumentsInvalid?: true;
}

export interface ChildSet {
  parents: number;
  source: ParentSource;
  /** For `direct-reports`: the distinct managers those objects can have. */
  distinctManagers?: number;
}

export interface PlanningTunables {
  /** Requests per `$batch` POST (Graph: 20). */
  batchSize: number;
  /** Ids per `getByIds` (Graph: 1000). */
  getByIdsSize: number;
  /** Largest page the gateway asks for (Graph: 999). */
  maxPageSize: number;
  /** Delta pages one `userChanges` call reads at most. */
  deltaPages: number;
  /** Users a full `userChanges` sync is assumed to return. */
  directorySize: number;
  /** Upstream requests of one mutation field (lookup + write(s)). */
  mutationRequests: number;
  /** Authentication methods assumed per user. */
  methodsPerUser: number;
}

export const DEFAULT_PLANNING_TUNABLES: Readonly<PlanningTunables> = Object.freeze({
  batchSize: GRAPH_BATCH_LIMIT,
  getByIdsSize: GET_BY_IDS_LIMIT,
  maxPageSize: MAX_PAGE_SIZE,
  deltaPages: DELTA_PAGES_PER_CALL,
  directorySize: 1000,
  mutationRequests: 3,
  methodsPerUser: 10,
});

export type PlanningRule = (occurrences: FieldOccurrence[], tunables: PlanningTunables) => FieldPlan;

/**
 * Whether a user id the caller gave addresses the user by object id, read as the resolvers read it:
 * they trim it first (`normalizeUserKey`, `resolveUserReference`), so `" <guid>"` is a GUID lookup.
 * The rules and the estimate cache key (estimate-cache-key.ts) all classify ids with this one
 * function: when the key called `" <guid>"` text and the `_entities` rule called it a GUID, a
 * request whose ids were not GUIDs cached a cheap estimate that the same shape of padded GUIDs then
 * reused, and 50 references with 25 aliased report pages cost Graph 64 requests under a budget of
 * 50 (docs/security.md#the-upstream-budget-and-its-cache).
 */
export function isGuidId(value: unknown): boolean {
  return typeof value === 'string' && isGuid(value.trim());
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const batches = (items: number, size: number) => (items <= 0 ? 0 : Math.ceil(items / size));

/** `first` as the gateway will use it: the schema default when absent, clamped to Graph's page limits. */
export function pageSize(args: Record<string, unknown>, tunables: PlanningTunables, fallback = 100): number {
  const first = typeof args.first === 'number' && Number.isFinite(args.first) ? args.first : fallback;
  return Math.min(tunables.maxPageSize, Math.max(1, Math.floor(first)));
}

/**
 * The `$select` a User lookup sends for this occurrence's selection, as a key: the loaders send one
 * getByIds per distinct `$select` (src/graph/loaders.ts), and the cross-request coalescer one
 * dispatch per `$select` (src/graph/user-coalescing.ts), so lookups by GUID batch only with lookups
 * of the same selection.
 */
function lookupSelect(o: FieldOccurrence): string {
  const properties = new Set<string>(['id']);
  for (const name of o.childFieldNames) {
    const property = USER_FIELD_TO_GRAPH[name];
    if (property) properties.add(property);
  }
  return [...properties].sort().join(',');
}

/**
 * Requests of plain lookups by GUID (no `manager`): one getByIds per 1000 lookups of the same
 * `$select`. Before, every GUID lookup of the operation was counted as sharing one getByIds: 100
 * aliased `user(id:)` fields in 50 different selections were estimated at 1 request and sent 50
 * getByIds (with the coalescer, 100 aliases in 100 selections sent 100 GETs), past a budget of 50
 * (docs/security.md#the-upstream-budget-and-its-cache).
 */
function guidLookupRequests(lookups: ReadonlyArray<{ select: string; count: number }>, t: PlanningTunables): number {
  const bySelect = new Map<string, number>();
  for (const { select, count } of lookups) bySelect.set(select, (bySelect.get(select) ?? 0) + count);
  return sum([...bySelect.values()].map((count) => batches(count, t.getByIdsSize)));
}

const userLookup: PlanningRule = (occurrences, t) => {
  const withManager = occurrences.filter((o) => o.childFieldNames.has('manager'));
  const plain = occurrences.filter((o) => !o.childFieldNames.has('manager'));
  const guidOccurrences = plain.filter((o) => isGuidId(o.args.id));
  const guids = guidLookupRequests(
    guidOccurrences.map((o) => ({ select: lookupSelect(o), count: o.parents })),
    t,
  );
  const others = sum(plain.map((o) => o.parents)) - sum(guidOccurrences.map((o) => o.parents));
  return {
    requests: batches(sum(withManager.map((o) => o.parents)), t.batchSize) + guids + batches(others, t.batchSize),
    children: (o) => ({ parents: o.parents, source: o.childFieldNames.has('manager') ? 'manager-expanded' : 'other' }),
  };
};

/**
 * `_entities(representations:)` of a supergraph (FEDERATION=true): each User reference is a lookup
 * by object id through the same loader as `user(id:)` (src/graphql/federation/entities.ts), so N
 * references cost what N `user(id:)` fields with GUIDs cost: one `getByIds` per 1000 of the same
 * selection (aliases of `_entities` may select differently), or with `manager` selected one `$batch`
 * item each (20 per POST). Representations without a GUID `id`
 * are refused before Graph. `__typename` is not read on purpose: estimates are cached by the
 * variables' shape, which keeps GUIDs apart from other text but not "User" from other names, and
 * counting every GUID reference is an upper bound either way.
 */
const entityLookup: PlanningRule = (occurrences, t) => {
  const references = (o: FieldOccurrence) => {
    const representations = Array.isArray(o.args.representations) ? (o.args.representations as unknown[]) : [];
    const guids = representations.filter((r) => {
      const id = typeof r === 'object' && r !== null ? (r as { id?: unknown }).id : undefined;
      return isGuidId(id);
    });
    return o.parents * guids.length;
  };
  const withManager = occurrences.filter((o) => o.childFieldNames.has('manager'));
  const plain = occurrences.filter((o) => !o.childFieldNames.has('manager'));
  return {
    requests:
      batches(sum(withManager.map(references)), t.batchSize) +
      guidLookupRequests(
        plain.map((o) => ({ select: lookupSelect(o), count: references(o) })),
        t,
      ),
    children: (o) => ({ parents: references(o), source: o.childFieldNames.has('manager') ? 'manager-expanded' : 'other' }),
  };
};

/**
 * Whether the list is an advanced query (no `$expand` there), decided as the resolver decides it;
 * undefined when the arguments do not compile (they fail before any upstream call). Which of the
 * two it is depends on the text of `search` and `filter` values (a blank term does not compile, a
 * term does), which the estimate cache key does not keep: an estimate that met undefined is not
 * cached. Before, a blank search term cached the estimate of an expanded list (10 requests for
 * `first: 999` with `manager`), and the same document with a real term, an advanced query whose
 * managers are 50 more requests, reused it (docs/security.md#the-upstream-budget-and-its-cache).
 */
function isAdvancedListQuery(args: Record<string, unknown>, count: boolean): boolean | undefined {
  try {
    return isAdvancedUsersQuery({
      filter: compileUserFilter(args.filter as UserFilter | null | undefined),
      search: compileUserSearch(args.search as UserSearch | null | undefined),
      order: compileUserOrder(args.orderBy as UserOrder | null | undefined),
      count,
    });
  } catch {
    return undefined;
  }
}

/**
 * `users(...)`: one list request per alias. When `manager` is `$expand`ed and `first` is above a
 * page with `$expand` (100), the page is collected over ceil(first / 100) Graph pages, one more
 * when it resumes in the middle of one (`after`). A continued page that selects `totalCount` may
 * need one count request.
 */
const userList: PlanningRule = (occurrences, t) => {
  const expanding = (o: FieldOccurrence) =>
    ['nodes', 'edges', 'pageInfo'].some((f) => o.childFieldNames.has(f)) &&
    o.nodeFieldNames?.has('manager') === true &&
    !isAdvancedListQuery(o.args, o.childFieldNames.has('totalCount'));
  const continued = (o: FieldOccurrence) => typeof o.args.after === 'string';
  const perOccurrence = (o: FieldOccurrence) => {
    const first = pageSize(o.args, t);
    const pages = expanding(o) && first > EXPANDED_PAGE_SIZE ? Math.ceil(first / EXPANDED_PAGE_SIZE) + (continued(o) ? 1 : 0) : 1;
    return pages + (continued(o) && o.childFieldNames.has('totalCount') ? 1 : 0);
  };
  return {
    requests: sum(occurrences.map((o) => o.parents * perOccurrence(o))),
    children: (o) => ({ parents: o.parents * pageSize(o.args, t), source: expanding(o) ? 'expandable-list' : 'other' }),
    ...(occurrences.some((o) => isAdvancedListQuery(o.args, false) === undefined) ? { argumentsInvalid: true as const } : {}),
  };
};

const single: PlanningRule = (occurrences) => ({
  requests: sum(occurrences.map((o) => o.parents)),
  children: (o) => ({ parents: o.parents, source: 'other' }),
});

const manager: PlanningRule = (occurrences, t) => {
  const lookups = occurrences.map((o) => {
    if (o.source === 'expandable-list' || o.source === 'manager-expanded') return 0;
    if (o.source === 'direct-reports') return Math.min(o.parents, o.distinctManagers ?? o.parents);
    return o.parents;
  });
  return {
    requests: batches(sum(lookups), t.batchSize),
    children: (o) => ({ parents: o.parents, source: 'other' }),
  };
};

/** First pages through a loader (`$batch` items), pages continued from a cursor one plain request per parent. */
function relationshipRequests(occurrences: FieldOccurrence[], t: PlanningTunables): number {
  const continued = occurrences.filter((o) => typeof o.args.after === 'string');
  const first = occurrences.filter((o) => typeof o.args.after !== 'string');
  return batches(sum(first.map((o) => o.parents)), t.batchSize) + sum(continued.map((o) => o.parents));
}

/** `directReports` of N users: one `$batch` item each, shared `$batch` POSTs. */
const directReports: PlanningRule = (occurrences, t) => ({
  requests: relationshipRequests(occurrences, t),
  children: (o) => ({ parents: o.parents * pageSize(o.args, t), source: 'direct-reports', distinctManagers: o.parents }),
});

/**
 * `memberOf` and `ownedDevices` of N users: first pages through their loaders, one `$batch` item
 * each; a page continued from a cursor is one plain request per parent.
 */
const relationshipPage: PlanningRule = (occurrences, t) => ({
  requests: relationshipRequests(occurrences, t),
  children: (o) => ({ parents: o.parents * pageSize(o.args, t), source: 'other' }),
});

/** Authentication methods of N users: first pages through the loader, one `$batch` item each. */
const authenticationMethods: PlanningRule = (occurrences, t) => ({
  requests: batches(sum(occurrences.map((o) => o.parents)), t.batchSize),
  children: (o) => ({ parents: o.parents * t.methodsPerUser, source: 'other' }),
});

const userChanges: PlanningRule = (occurrences, t) => ({
  requests: sum(occurrences.map((o) => o.parents)) * t.deltaPages,
  children: (o) => ({ parents: o.parents * t.directorySize, source: 'other' }),
});

const mutation: PlanningRule = (occurrences, t) => ({
  requests: sum(occurrences.map((o) => o.parents)) * t.mutationRequests,
  children: (o) => ({ parents: o.parents, source: 'other' }),
});

/** Rules by `Type.field`; fields without a rule cost nothing and pass their parents through. */
export const PLANNING_RULES: Readonly<Record<string, PlanningRule>> = Object.freeze({
  'Query.user': userLookup,
  'Query.users': userList,
  'Query.me': single,
  'Query.userChanges': userChanges,
  'Query._entities': entityLookup,
  'User.manager': manager,
  'User.directReports': directReports,
  'User.memberOf': relationshipPage,
  'User.ownedDevices': relationshipPage,
  'User.authenticationMethods': authenticationMethods,
});

/** Every Mutation field costs `mutationRequests` unless a rule says otherwise. */
export const DEFAULT_MUTATION_RULE: PlanningRule = mutation;
