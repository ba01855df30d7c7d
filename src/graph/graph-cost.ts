/**
 * Graph's cost model of directory calls (docs/graph-facts.md#throttling): what one call costs in
 * resource units (RU) and directory writes. Pure functions: the rate limiters (src/graph/rate-limiter.ts,
 * src/graph/shared-rate-limiter.ts) only ever see the resulting numbers.
 *
 * The table: any request not listed costs 1 RU. `GET users` 2; `GET groups/{id}/members` 3;
 * `GET groups/{id}/transitiveMembers` 5; `POST directoryObjects/getByIds` and `POST getObjectsById` 5,
 * but 2 with `$select`; `GET me/memberOf`, `me/transitiveMemberOf`, `me/ownedObjects`,
 * `me/licenseDetails` 2 (the same for `users/{id}/...`); `POST me/getMemberGroups` and
 * `me/getMemberObjects` 2; `POST me/checkMemberGroups`, `me/checkMemberObjects` and `isMemberOf` 4.
 * POST/PATCH/PUT/DELETE otherwise are writes: 1 RU and 1 write. `$select` lowers a read by 1, `$expand`
 * raises it by 1, `$top` below 20 lowers it by 1, and a read never costs less than 1.
 */

import { isBatchEnvelope, outgoingBatchItems } from './batch-envelope.js';

/** What the cost model needs to know of one Graph call (a `$batch` item or a plain request). */
export interface CostedCall {
  method: string;
  /** Route template, e.g. `/users`, `/users/{id}/manager`, `/directoryObjects/getByIds`. */
  template: string;
  query?: Record<string, string | undefined>;
}

export interface CallCost {
  resourceUnits: number;
  writes: number;
}

/** POST actions that only read: they cost RU, never a write. */
const READ_ACTIONS = /\/(getByIds|getObjectsById|getMemberGroups|getMemberObjects|checkMemberGroups|checkMemberObjects|isMemberOf)$/;

/** Base RU of reads the table lists (everything else is 1). */
const READ_BASES: ReadonlyArray<[RegExp, number]> = [
  [/^\/users$/, 2],
  [/^\/groups\/\{[^}]+\}\/transitiveMembers(\/|$)/, 5],
  [/^\/groups\/\{[^}]+\}\/members(\/|$)/, 3],
  // `me/...` costs apply to `users/{id}/...` alike.
  [/^\/(me|users\/\{[^}]+\})\/(memberOf|transitiveMemberOf|ownedObjects|licenseDetails)(\/|$)/, 2],
  [/^\/(me|users\/\{[^}]+\})\/(getMemberGroups|getMemberObjects)$/, 2],
  [/^\/(me|users\/\{[^}]+\})\/(checkMemberGroups|checkMemberObjects)$/, 4],
  [/\/isMemberOf$/, 4],
  [/^\/(applications|oauth2PermissionGrants(\/\{[^}]+\})?|applications\/\{[^}]+\}\/extensionProperties|servicePrincipals\/\{[^}]+\}\/appRoleAssignments)$/, 2],
  [/^\/(contracts|subscribedSkus)$/, 3],
  [/^\/domains\/\{[^}]+\}\/domainNameReferences$/, 4],
];

/** Resource units and writes of one call, per docs/graph-facts.md#throttling. */
export function resourceUnitCost(call: CostedCall): CallCost {
  const method = call.method.toUpperCase();
  const template = call.template.replace(/^\/(v1\.0|beta)(?=\/)/, '');
  const query = call.query ?? {};
  const has = (name: string) => query[name] !== undefined && query[name] !== '';
  if (template === '/$batch') return { resourceUnits: 1, writes: 0 };
  const readAction = method === 'POST' && READ_ACTIONS.test(template);
  if (method !== 'GET' && !readAction) return { resourceUnits: 1, writes: 1 };
  // Graph's note: getByIds and getObjectsById with `$select` cost 2, whatever the other options.
  if (/\/(getByIds|getObjectsById)$/.test(template)) return { resourceUnits: has('$select') ? 2 : 5, writes: 0 };
  let cost = READ_BASES.find(([pattern]) => pattern.test(template))?.[1] ?? 1;
  if (has('$select')) cost -= 1;
  if (has('$expand')) cost += 1;
  const top = Number(query.$top);
  if (has('$top') && Number.isFinite(top) && top < 20) cost -= 1;
  return { resourceUnits: Math.max(1, cost), writes: 0 };
}

/** A `$batch` costs what its items cost: Graph evaluates each item against the limits on its own. */
export function batchResourceUnitCost(items: CostedCall[]): CallCost {
  return items.reduce<CallCost>(
    (sum, item) => {
      const cost = resourceUnitCost(item);
      return { resourceUnits: sum.resourceUnits + cost.resourceUnits, writes: sum.writes + cost.writes };
    },
    { resourceUnits: 0, writes: 0 },
  );
}

/** Collections whose next segment is an id (or a well-known action, kept as it is). */
const ID_COLLECTIONS = new Set([
  'users',
  'groups',
  'directoryObjects',
  'servicePrincipals',
  'applications',
  'devices',
  'contacts',
  'oauth2PermissionGrants',
  'directoryRoles',
  'domains',
  'methods',
  'operations',
]);
const NOT_AN_ID = /^(getByIds|getObjectsById|\$ref|\$count|delta(\(\))?|microsoft\.graph\..+|[a-zA-Z]+Methods)$/;

/**
 * The route template of a relative item URL (`/users/{id}/manager` from `/users/8f.../manager`), so
 * an item prices like its route: an id is the segment after a collection name.
 */
export function templateOfRelativeUrl(pathname: string): string {
  const segments = pathname.split('/').filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const previous = segments[i - 1];
    if (previous !== undefined && ID_COLLECTIONS.has(previous) && !NOT_AN_ID.test(segment)) out.push('{id}');
    else if (/^users\(.+\)$/.test(segment)) out.push('users', '{id}');
    else out.push(segment);
  }
  return `/${out.join('/')}`;
}

/**
 * Cost of a call as the transport sees it: a plain request, or a `$batch` envelope whose body
 * carries relative item URLs (`/users/{id}/manager?$select=id`), each priced like its route.
 */
export function costOfOutgoingCall(call: CostedCall & { body?: unknown }): CallCost {
  if (isBatchEnvelope(call)) {
    return batchResourceUnitCost(
      outgoingBatchItems(call.body).map((item) => ({ method: item.method, template: templateOfRelativeUrl(item.pathname), query: item.query })),
    );
  }
  return resourceUnitCost(call);
}
