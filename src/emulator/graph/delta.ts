/**
 * `GET /users/delta`: an initial sync paged with `$skiptoken`, ending in a `$deltatoken` link that
 * later returns what changed (from the tenant's change log). Tokens last 7 days on the emulator
 * clock; an unreadable token or one from another tenant instance gets 410 Gone (full resync).
 */
import type { EmuResponse } from '../http.js';
import type { UserRecord } from '../model.js';
import { requireCapability } from './authorization.js';
import { metadataUrl, ok, queryParam, type GraphCall } from './call.js';
import { userEntity, userToGraph } from './entities.js';
import { GraphError, badRequest } from './errors.js';
import { parseSelect, project } from './query.js';
import { graphState } from './state.js';

export const DELTA_PAGE_SIZE = 200;
export const DELTA_TOKEN_LIFETIME_MS = 7 * 24 * 3600 * 1000;

interface DeltaState {
  /** Tenant instance the token belongs to. */
  e: string;
  /** Change-log position the sync has reached. */
  s: number;
  /** When the token was issued (emulator clock), for expiry. */
  t: number;
  /** Selected properties (query parameters only go on the first call). */
  sel: string[] | null;
  /** Paging: changes window upper bound and offset into the page list. */
  to?: number;
  o?: number;
  /** Initial sync (all users) rather than changes. */
  init?: boolean;
}

const encode = (state: DeltaState) => Buffer.from(JSON.stringify(state)).toString('base64url');

function decode(call: GraphCall, token: string): DeltaState {
  let state: DeltaState;
  try {
    state = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as DeltaState;
    if (typeof state.e !== 'string' || typeof state.s !== 'number' || typeof state.t !== 'number') throw new Error('shape');
  } catch {
    throw resync(call);
  }
  if (state.e !== graphState(call.ctx.tenant).epoch) throw resync(call);
  return state;
}

function resync(call: GraphCall): GraphError {
  return new GraphError(410, 'resyncRequired', 'The delta token is not valid any more. A full resynchronization is required.', {
    location: `${call.ctx.origin}/${call.version}/users/delta`,
  });
}

function link(call: GraphCall, kind: '$skiptoken' | '$deltatoken', state: DeltaState): string {
  return `${call.ctx.origin}/${call.version}/users/delta?${kind}=${encode(state)}`;
}

function item(user: UserRecord, select: string[] | null): Record<string, unknown> {
  const props = select ? (select.includes('id') ? select : ['id', ...select]) : userEntity.defaultSelect;
  return project(userToGraph(user), props);
}

function page(call: GraphCall, items: Record<string, unknown>[], state: DeltaState, offset: number, fragment: string): EmuResponse {
  const slice = items.slice(offset, offset + DELTA_PAGE_SIZE);
  const body: Record<string, unknown> = { '@odata.context': metadataUrl(call, fragment) };
  const now = call.ctx.now();
  if (offset + DELTA_PAGE_SIZE < items.length) body['@odata.nextLink'] = link(call, '$skiptoken', { ...state, o: offset + DELTA_PAGE_SIZE, t: now });
  else body['@odata.deltaLink'] = link(call, '$deltatoken', { e: state.e, s: state.to ?? state.s, t: now, sel: state.sel });
  body.value = slice;
  return ok(200, body);
}

function changesSince(call: GraphCall, from: number, to: number, select: string[] | null): Record<string, unknown>[] {
  const latest = new Map<string, 'changed' | 'removed-soft' | 'removed-hard'>();
  for (const change of call.ctx.tenant.changes) {
    if (change.seq <= from || change.seq > to) continue;
    latest.delete(change.userId);
    latest.set(change.userId, change.kind);
  }
  const out: Record<string, unknown>[] = [];
  for (const [userId, kind] of latest) {
    const user = call.ctx.tenant.users.get(userId);
    if (kind === 'changed' && user) out.push(item(user, select));
    else out.push({ id: userId, '@removed': { reason: kind === 'removed-hard' ? 'deleted' : 'changed' } });
  }
  return out;
}

export function userDelta(call: GraphCall): EmuResponse {
  requireCapability(call.principal, 'users.read');
  const tenant = call.ctx.tenant;
  const epoch = graphState(tenant).epoch;
  const now = call.ctx.now();
  const skipToken = queryParam(call, '$skiptoken');
  const deltaToken = call.req.url.searchParams.get('$deltatoken') ?? call.req.url.searchParams.get('$deltaToken') ?? undefined;
  for (const unsupported of ['$expand', '$top', '$orderby', '$search']) {
    if (queryParam(call, unsupported) !== undefined) throw badRequest(`${unsupported} is not supported on delta queries.`);
  }

  if (deltaToken === 'latest') {
    const select = parseSelect(userEntity, queryParam(call, '$select'), { list: true }) ?? null;
    return page(call, [], { e: epoch, s: tenant.changeSeq, t: now, sel: select }, 0, 'users');
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
    const fragment = state.sel ? `users(${state.sel.join(',')})` : 'users';
    if (state.init) {
      const users = [...tenant.users.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
      return page(
        call,
        users.map((u) => item(u, state.sel)),
        state,
        state.o ?? 0,
        fragment,
      );
    }
    const to = state.to ?? tenant.changeSeq;
    return page(call, changesSince(call, state.s, to, state.sel), { ...state, to }, state.o ?? 0, fragment);
  }

  const select = parseSelect(userEntity, queryParam(call, '$select'), { list: true }) ?? null;
  const users = [...tenant.users.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const state: DeltaState = { e: epoch, s: tenant.changeSeq, t: now, sel: select, init: true, to: tenant.changeSeq };
  return page(
    call,
    users.map((u) => item(u, select)),
    state,
    0,
    select ? `users(${select.join(',')})` : 'users',
  );
}
