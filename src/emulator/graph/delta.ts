/**
 * `GET /users/delta` (docs/graph-facts.md#delta-query). A round is one or more pages: `@odata.nextLink`
 * (`$skiptoken`) while the round has more, `@odata.deltaLink` (`$deltatoken`) on its last page, which
 * later returns what changed since (from the tenant's change log). The first round (no token) is the
 * current state of every user. Graph chooses the page size (no `$top`; users come in pages of at most
 * 200) and query parameters go on the first request only: they are encoded in the links, and a
 * `$select` next to a `$skiptoken` is refused. Tokens last 7 days on the emulator clock (then
 * 400 `syncStateNotFound`); under the `pageTokenLifetimeSeconds` switch a nextLink's `$skiptoken`
 * expires sooner, with the directory's 400 `Directory_ExpiredPageToken` (docs/graph-facts.md#delta-query); a token the tenant cannot read (altered, or from a tenant instance
 * before a reset) gets 410 Gone with a Location to start a full resync. `$filter` (object ids only)
 * and `Prefer: return=minimal` follow delta-options.ts. `$select` tracks only the properties it names
 * and may name `manager` (reported as `manager@delta`). `$expand`, `$top` and `$orderby` are "not
 * supported" for users (delta-query-overview): the emulator reads that strictly and answers 400
 * (docs/graph-facts.md#delta-query).
 */
import type { EmuResponse } from '../http.js';
import type { TenantModel, UserRecord } from '../model.js';
import { requireCapability } from './authorization.js';
import { metadataUrl, ok, queryParam, type GraphCall } from './call.js';
import { userEntity, userToGraph } from './entities.js';
import { GraphError, badRequest } from './errors.js';
import { expiredPageToken, pageTokenExpired, parseSelect, project } from './query.js';
import { deltaFilterIds, minimalProperties, prefersMinimal } from './delta-options.js';
import { graphState } from './state.js';

/** Most users per page: Graph's user delta pages hold at most 200 objects (docs/graph-facts.md#delta-query). */
export const DELTA_PAGE_SIZE = 200;
export const DELTA_TOKEN_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/** What a token continues. */
type DeltaState =
  | {
      /** Full sync: users ordered by id, continuing after `after` (an id, not an offset, so creations and deletions during the sync shift nothing). */
      k: 'sync';
      e: string;
      t: number;
      sel: string[] | null;
      /** Change-log position when the sync started: the next round reports every change after it (changes during the sync are replayed, never lost). */
      s: number;
      after: string | null;
      /** Object ids a `$filter` tracks; absent: every user. */
      ids?: string[];
    }
  | {
      /** Changes after log position `s` up to `to` (fixed when the round starts), from offset `o` of that list. */
      k: 'changes';
      e: string;
      t: number;
      sel: string[] | null;
      s: number;
      to: number | null;
      o: number;
      ids?: string[];
    };

const encode = (state: DeltaState) => Buffer.from(JSON.stringify(state)).toString('base64url');

function decode(call: GraphCall, token: string): DeltaState {
  let state: DeltaState;
  try {
    state = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as DeltaState;
    const shapeOk =
      typeof state.e === 'string' &&
      typeof state.t === 'number' &&
      typeof state.s === 'number' &&
      (state.k === 'sync' ? state.after === null || typeof state.after === 'string' : state.k === 'changes' && typeof state.o === 'number') &&
      (state.ids === undefined || (Array.isArray(state.ids) && state.ids.every((id) => typeof id === 'string')));
    if (!shapeOk) throw new Error('shape');
  } catch {
    throw resync(call);
  }
  if (state.e !== graphState(call.ctx.tenant).epoch) throw resync(call);
  return state;
}

/** 410 Gone: the Location is the initial request (no token), as Graph sends it. */
function resync(call: GraphCall): GraphError {
  return new GraphError(410, 'resyncRequired', 'The delta token is not valid any more. A full resynchronization is required.', {
    location: `${call.ctx.origin}/${call.version}/users/delta`,
  });
}

function link(call: GraphCall, kind: '$skiptoken' | '$deltatoken', state: DeltaState): string {
  return `${call.ctx.origin}/${call.version}/users/delta?${kind}=${encode(state)}`;
}

/**
 * The `manager` navigation property in `$select`: tracked as the `manager@delta` annotation
 * (delta-query-overview, "Optional query parameters"; docs/graph-facts.md#delta-query).
 */
const MANAGER = 'manager';

/** A user as a delta page shows it; with `changed` (Prefer: return=minimal), only what changed. */
function item(
  tenant: TenantModel,
  user: UserRecord,
  select: string[] | null,
  changed?: { properties: ReadonlySet<string> | undefined },
  formerManagerId?: string,
): Record<string, unknown> {
  const props = select ? (select.includes('id') ? select : ['id', ...select]) : userEntity.defaultSelect;
  const shown = changed ? minimalProperties(props, changed.properties) : props;
  const out = project(
    userToGraph(user),
    shown.filter((p) => p !== MANAGER),
  );
  if (shown.includes(MANAGER)) {
    const delta = managerDelta(tenant, user, formerManagerId);
    if (delta) out[`${MANAGER}@delta`] = delta;
  }
  return out;
}

/**
 * `manager@delta`: the manager as a one-entry list (`@odata.type` and `id`); when the round took the
 * manager away, the former one with `@removed` (microsoft/api-guidelines graph/patterns/change-tracking.md).
 * Absent for a user without a manager and no removal to report.
 */
function managerDelta(tenant: TenantModel, user: UserRecord, formerManagerId: string | undefined): Record<string, unknown>[] | undefined {
  const id = user.managerId ?? formerManagerId;
  if (!id) return undefined;
  const type = tenant.contacts.has(id) ? '#microsoft.graph.orgContact' : '#microsoft.graph.user';
  return [{ '@odata.type': type, id, ...(user.managerId ? {} : { '@removed': { reason: 'deleted' } }) }];
}

/** `$select` of a delta request: the user's properties, plus `manager` (which plain lists refuse). */
function parseDeltaSelect(raw: string | undefined): string[] | null {
  if (raw === undefined) return null;
  const names = raw.split(',').map((n) => n.trim());
  const manager = names.some((n) => n.toLowerCase() === MANAGER);
  const rest = names.filter((n) => n.toLowerCase() !== MANAGER).join(',');
  const sel = parseSelect(userEntity, rest, { list: true }) ?? null;
  if (!manager) return sel;
  return [...(sel ?? []), MANAGER];
}

function respond(
  call: GraphCall,
  sel: string[] | null,
  value: Record<string, unknown>[],
  next: DeltaState | null,
  round: { e: string; s: number; ids?: string[] | undefined },
): EmuResponse {
  const body: Record<string, unknown> = { '@odata.context': metadataUrl(call, sel ? `users(${sel.join(',')})` : 'users') };
  const t = call.ctx.now();
  if (next) body['@odata.nextLink'] = link(call, '$skiptoken', { ...next, t });
  else
    body['@odata.deltaLink'] = link(call, '$deltatoken', {
      k: 'changes',
      e: round.e,
      t,
      sel,
      s: round.s,
      to: null,
      o: 0,
      ...(round.ids ? { ids: round.ids } : {}),
    });
  body.value = value;
  return ok(200, body);
}

/** Ids of the tenant's users in order, kept while the directory is unchanged (a 25,000-user sync is 125 pages). */
const sortedIds = new WeakMap<TenantModel, { seq: number; size: number; ids: string[] }>();

function idsInOrder(tenant: TenantModel): string[] {
  const cached = sortedIds.get(tenant);
  if (cached && cached.seq === tenant.changeSeq && cached.size === tenant.users.size) return cached.ids;
  const ids = [...tenant.users.keys()].sort();
  sortedIds.set(tenant, { seq: tenant.changeSeq, size: tenant.users.size, ids });
  return ids;
}

/** First index whose id is greater than `after`. */
function firstAfter(ids: string[], after: string | null): number {
  if (after === null) return 0;
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function syncPage(call: GraphCall, state: Extract<DeltaState, { k: 'sync' }>): EmuResponse {
  const tenant = call.ctx.tenant;
  const tracked = state.ids ? new Set(state.ids) : undefined;
  const ids = tracked ? idsInOrder(tenant).filter((id) => tracked.has(id)) : idsInOrder(tenant);
  const start = firstAfter(ids, state.after);
  const pageIds = ids.slice(start, start + DELTA_PAGE_SIZE);
  const value = pageIds.map((id) => item(tenant, tenant.users.get(id)!, state.sel));
  const more = start + DELTA_PAGE_SIZE < ids.length;
  return respond(call, state.sel, value, more ? { ...state, after: pageIds.at(-1)! } : null, state);
}

function changesSince(call: GraphCall, from: number, to: number, select: string[] | null, ids: string[] | undefined): Record<string, unknown>[] {
  const tracked = ids ? new Set(ids) : undefined;
  const latest = new Map<string, 'changed' | 'removed-soft' | 'removed-hard'>();
  // Properties changed in the round per user; undefined once the whole object counts as changed (created, restored).
  const changed = new Map<string, Set<string> | undefined>();
  // The manager each user's latest manager removal in the round took away.
  const formerManager = new Map<string, string>();
  for (const change of call.ctx.tenant.changes) {
    if (change.seq <= from || change.seq > to || (tracked && !tracked.has(change.userId))) continue;
    if (change.formerManagerId) formerManager.set(change.userId, change.formerManagerId);
    latest.delete(change.userId);
    latest.set(change.userId, change.kind);
    const seen = changed.has(change.userId) ? changed.get(change.userId) : new Set<string>();
    changed.set(change.userId, seen && change.properties ? new Set([...seen, ...change.properties]) : undefined);
  }
  const minimal = prefersMinimal(call);
  const out: Record<string, unknown>[] = [];
  for (const [userId, kind] of latest) {
    const user = call.ctx.tenant.users.get(userId);
    // Only the selected properties are tracked: a user whose changes all lie outside `$select` is not reported.
    if (kind === 'changed' && user && !touchesTracked(select, changed.get(userId))) continue;
    if (kind === 'changed' && user)
      out.push(item(call.ctx.tenant, user, select, minimal ? { properties: changed.get(userId) } : undefined, formerManager.get(userId)));
    else out.push({ id: userId, '@removed': { reason: kind === 'removed-hard' ? 'deleted' : 'changed' } });
  }
  return out;
}

/**
 * Whether a user's changes in the round concern what the round tracks: with `$select`, only the
 * selected properties are tracked (delta-query-overview, "Optional query parameters";
 * docs/graph-facts.md#delta-query); without it, every property. `changed` undefined: the whole
 * object counts (created or restored).
 */
function touchesTracked(select: string[] | null, changed: ReadonlySet<string> | undefined): boolean {
  if (select === null || changed === undefined) return true;
  return select.some((p) => changed.has(p));
}

function changesPage(call: GraphCall, state: Extract<DeltaState, { k: 'changes' }>): EmuResponse {
  const to = state.to ?? call.ctx.tenant.changeSeq;
  const all = changesSince(call, state.s, to, state.sel, state.ids);
  const value = all.slice(state.o, state.o + DELTA_PAGE_SIZE);
  const more = state.o + DELTA_PAGE_SIZE < all.length;
  return respond(call, state.sel, value, more ? { ...state, to, o: state.o + DELTA_PAGE_SIZE } : null, { e: state.e, s: to, ids: state.ids });
}

export function userDelta(call: GraphCall): EmuResponse {
  requireCapability(call.principal, 'users.read');
  const tenant = call.ctx.tenant;
  const epoch = graphState(tenant).epoch;
  const now = call.ctx.now();
  const skipToken = queryParam(call, '$skiptoken');
  const deltaToken = call.req.url.searchParams.get('$deltatoken') ?? call.req.url.searchParams.get('$deltaToken') ?? undefined;
  for (const unsupported of ['$top', '$orderby', '$expand', '$search']) {
    if (queryParam(call, unsupported) !== undefined) throw badRequest(`${unsupported} is not supported on delta queries.`);
  }
  const selectParam = queryParam(call, '$select');
  // Query parameters belong to the first request; a nextLink already carries them.
  if (skipToken !== undefined && selectParam !== undefined) throw badRequest('$select is not supported together with $skiptoken: use the nextLink as it is.');

  if (deltaToken === 'latest') {
    const sel = parseDeltaSelect(selectParam);
    return respond(call, sel, [], null, { e: epoch, s: tenant.changeSeq, ids: deltaFilterIds(queryParam(call, '$filter')) });
  }
  if (skipToken !== undefined || deltaToken !== undefined) {
    const state = decode(call, (skipToken ?? deltaToken)!);
    if (now - state.t > DELTA_TOKEN_LIFETIME_MS) {
      throw new GraphError(
        400,
        'syncStateNotFound',
        'The sync state generation is not found. Delta tokens expire after 7 days; start a new full synchronization.',
      );
    }
    // A round's nextLink is a directory page token: under the switch it expires like a collection's, with the
    // directory's code rather than a delta one (the stricter reading: docs/graph-facts.md#delta-query).
    if (skipToken !== undefined && pageTokenExpired(call, state.t)) throw expiredPageToken();
    return state.k === 'sync' ? syncPage(call, state) : changesPage(call, state);
  }

  const sel = parseDeltaSelect(selectParam);
  const ids = deltaFilterIds(queryParam(call, '$filter'));
  return syncPage(call, { k: 'sync', e: epoch, t: now, sel, s: tenant.changeSeq, after: null, ...(ids ? { ids } : {}) });
}
