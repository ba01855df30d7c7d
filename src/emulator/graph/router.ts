/**
 * The emulator's Microsoft Graph surface (`/v1.0/*`, `/beta/*`). Every request gets Graph's
 * request ids and headers, fault injection, token verification, route matching and Graph-shaped
 * errors. `$batch` items go through the very same `dispatchGraph`, each with its own dice.
 */
import { randomUUID } from 'node:crypto';
import type { EmulatorContext } from '../context.js';
import type { FaultDecision, FaultRule } from '../faults.js';
import { directoryCost, type ThrottleDecision } from '../throttling.js';
import { json, type EmuRequest, type EmuResponse } from '../http.js';
import { decodeSegments, parenthesisedKey, resolveUser, type UserKey } from './addressing.js';
import {
  METHOD_COLLECTIONS,
  REF_DELETE_COLLECTIONS,
  createTemporaryAccessPass,
  deletableCollection,
  deleteMethod,
  getMethod,
  getOperation,
  listMethods,
  resetPassword,
} from './auth-methods.js';
import { authenticate, unverifiedClientKey } from './authorization.js';
import { handleBatch } from './batch.js';
import type { GraphCall } from './call.js';
import { assertJsonContentType } from './content-type.js';
import { userDelta } from './delta.js';
import { getByIds } from './directory-objects.js';
import { listRoleAssignments, listTransitiveDirectoryRoles } from './directory-roles.js';
import { getMemberObjects, listGroupEligibilityScheduleInstances, listTransitiveGroups } from './group-roles.js';
import { listGroupOwners, listGroups } from './groups.js';
import { listRoleEligibilityScheduleInstances } from './role-eligibility.js';
import { GraphError, errorBody, errorResponse, type RequestIds } from './errors.js';
import { getMetadata } from './metadata.js';
import { countMemberOf, getManager, listDirectReports, listMemberOf, listOwnedDevices, removeManager, setManager } from './relationships.js';
import { appIdKey, getServicePrincipal } from './service-principals.js';
import { settleOperations } from './state.js';
import { countUsers, createUser, deleteUser, getUser, listUsers, revokeSignInSessions, updateUser } from './users.js';

type Handler = (call: GraphCall) => EmuResponse | Promise<EmuResponse>;

/** A matched route: its statistics template, and either a handler or Graph's error for it. */
export interface RouteMatch {
  template: string;
  version: 'v1.0' | 'beta';
  run?: Handler;
  error?: GraphError;
  isBatch?: boolean;
}

const methodNotAllowed = () => new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
const segmentNotFound = (segment: string) => new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);

function pick(method: string, table: Partial<Record<string, Handler>>): Handler | GraphError {
  return table[method] ?? methodNotAllowed();
}

function userRoutes(method: string, base: string, key: UserKey, rest: string[]): { template: string; handler: Handler | GraphError } {
  const withUser =
    (fn: (call: GraphCall, user: ReturnType<typeof resolveUser>) => EmuResponse): Handler =>
    (call) =>
      fn(call, resolveUser(call, key));
  const [a, b, c, d] = rest;
  const t = (suffix: string) => `${base}${suffix}`;
  if (rest.length === 0) {
    return { template: t(''), handler: pick(method, { GET: withUser(getUser), PATCH: withUser(updateUser), DELETE: withUser(deleteUser) }) };
  }
  if (a === 'manager' && rest.length === 1) return { template: t('/manager'), handler: pick(method, { GET: withUser(getManager) }) };
  if (a === 'manager' && b === '$ref' && rest.length === 2) {
    return { template: t('/manager/$ref'), handler: pick(method, { PUT: withUser(setManager), DELETE: withUser(removeManager) }) };
  }
  if (a === 'directReports' && rest.length === 1) return { template: t('/directReports'), handler: pick(method, { GET: withUser(listDirectReports) }) };
  if (a === 'memberOf' && rest.length === 1) return { template: t('/memberOf'), handler: pick(method, { GET: withUser(listMemberOf) }) };
  if (a === 'memberOf' && b === '$count' && rest.length === 2)
    return { template: t('/memberOf/$count'), handler: pick(method, { GET: withUser(countMemberOf) }) };
  if (a === 'ownedDevices' && rest.length === 1) return { template: t('/ownedDevices'), handler: pick(method, { GET: withUser(listOwnedDevices) }) };
  if (a === 'transitiveMemberOf' && b === 'microsoft.graph.directoryRole' && rest.length === 2) {
    return { template: t('/transitiveMemberOf/microsoft.graph.directoryRole'), handler: pick(method, { GET: withUser(listTransitiveDirectoryRoles) }) };
  }
  if (a === 'getMemberObjects' && rest.length === 1) return { template: t('/getMemberObjects'), handler: pick(method, { POST: withUser(getMemberObjects) }) };
  if (a === 'transitiveMemberOf' && b === 'microsoft.graph.group' && rest.length === 2) {
    return { template: t('/transitiveMemberOf/microsoft.graph.group'), handler: pick(method, { GET: withUser(listTransitiveGroups) }) };
  }
  if (a === 'revokeSignInSessions' && rest.length === 1)
    return { template: t('/revokeSignInSessions'), handler: pick(method, { POST: withUser(revokeSignInSessions) }) };
  if (a === 'authentication') {
    if (b === 'methods') {
      if (rest.length === 2) return { template: t('/authentication/methods'), handler: pick(method, { GET: withUser((call, u) => listMethods(call, u)) }) };
      if (rest.length === 3)
        return { template: t('/authentication/methods/{methodId}'), handler: pick(method, { GET: withUser((call, u) => getMethod(call, u, c!)) }) };
      if (rest.length === 4 && d === 'resetPassword') {
        return {
          template: t('/authentication/methods/{methodId}/resetPassword'),
          handler: pick(method, { POST: withUser((call, u) => resetPassword(call, u, c!)) }),
        };
      }
    }
    if (b === 'operations' && rest.length === 3) {
      return { template: t('/authentication/operations/{operationId}'), handler: pick(method, { GET: withUser((call, u) => getOperation(call, u, c!)) }) };
    }
    if (b !== undefined && METHOD_COLLECTIONS[b] !== undefined) {
      if (rest.length === 2) {
        const table: Partial<Record<string, Handler>> = { GET: withUser((call, u) => listMethods(call, u, b)) };
        if (b === 'temporaryAccessPassMethods') table.POST = withUser(createTemporaryAccessPass);
        return { template: t(`/authentication/${b}`), handler: pick(method, table) };
      }
      if (rest.length === 3) {
        return {
          template: t(`/authentication/${b}/{methodId}`),
          handler: pick(method, {
            GET: withUser((call, u) => getMethod(call, u, c!, b)),
            ...(deletableCollection(b) && !REF_DELETE_COLLECTIONS.has(b) ? { DELETE: withUser((call, u) => deleteMethod(call, u, c!, b)) } : {}),
          }),
        };
      }
      if (rest.length === 4 && d === '$ref' && REF_DELETE_COLLECTIONS.has(b)) {
        return { template: t(`/authentication/${b}/{methodId}/$ref`), handler: pick(method, { DELETE: withUser((call, u) => deleteMethod(call, u, c!, b)) }) };
      }
    }
  }
  return { template: t(`/${a ?? ''}`), handler: segmentNotFound(rest[rest.length - 1] ?? '') };
}

/** Parses the path into a route; never throws (errors are part of the match). */
export function matchRoute(method: string, rawPath: string): RouteMatch {
  let segments: string[];
  try {
    segments = decodeSegments(rawPath);
  } catch (error) {
    return { template: `${method} (invalid path)`, version: 'v1.0', error: error as GraphError };
  }
  const version = segments[0] === 'beta' ? 'beta' : 'v1.0';
  const s = segments.slice(1);
  const tpl = (path: string) => `${method} /${version}/${path}`;
  const result = (path: string, handler: Handler | GraphError): RouteMatch =>
    handler instanceof GraphError ? { template: tpl(path), version, error: handler } : { template: tpl(path), version, run: handler };
  const [first, second] = s;
  if (first === undefined) return result('', segmentNotFound(version));
  if (first === '$batch' && s.length === 1) {
    return method === 'POST' ? { template: tpl('$batch'), version, isBatch: true } : result('$batch', methodNotAllowed());
  }
  if (first === '$metadata' && s.length === 1) return result('$metadata', pick(method, { GET: getMetadata }));
  if (first === 'users') {
    if (s.length === 1) return result('users', pick(method, { GET: listUsers, POST: createUser }));
    if (second === '$count' && s.length === 2) return result('users/$count', pick(method, { GET: countUsers }));
    if ((second === 'delta' || second === 'delta()' || second === 'microsoft.graph.delta()') && s.length === 2)
      return result('users/delta', pick(method, { GET: userDelta }));
    if (second!.startsWith('$')) {
      // A `$`-prefixed UPN must use the /users('$...') form (docs/graph-facts.md#addressing-users-and-encoding).
      return result(
        'users/{id}',
        new GraphError(400, 'BadRequest', `Unsupported segment '${second}': a key starting with '$' must be addressed as users('${second}').`),
      );
    }
    const { template, handler } = userRoutes(method, 'users/{id}', { kind: 'key', value: second! }, s.slice(2));
    return result(template, handler);
  }
  const parenthesised = parenthesisedKey(first);
  if (parenthesised !== undefined) {
    const { template, handler } = userRoutes(method, 'users/{id}', { kind: 'key', value: parenthesised }, s.slice(1));
    return result(template, handler);
  }
  if (first === 'me') {
    const { template, handler } = userRoutes(method, 'me', { kind: 'me' }, s.slice(1));
    return result(template, handler);
  }
  const spAppId = appIdKey(first);
  if (spAppId !== undefined && s.length === 1) {
    return result("servicePrincipals(appId='{appId}')", pick(method, { GET: (call) => getServicePrincipal(call, { kind: 'appId', value: spAppId }) }));
  }
  if (first === 'servicePrincipals' && second !== undefined && s.length === 2) {
    return result('servicePrincipals/{id}', pick(method, { GET: (call) => getServicePrincipal(call, { kind: 'id', value: second }) }));
  }
  if (first === 'roleManagement' && second === 'directory' && s[2] === 'roleAssignments' && s.length === 3) {
    return result('roleManagement/directory/roleAssignments', pick(method, { GET: listRoleAssignments }));
  }
  if (first === 'roleManagement' && second === 'directory' && s[2] === 'roleEligibilityScheduleInstances' && s.length === 3) {
    return result('roleManagement/directory/roleEligibilityScheduleInstances', pick(method, { GET: listRoleEligibilityScheduleInstances }));
  }
  if (first === 'identityGovernance' && second === 'privilegedAccess' && s[2] === 'group' && s[3] === 'eligibilityScheduleInstances' && s.length === 4) {
    return result('identityGovernance/privilegedAccess/group/eligibilityScheduleInstances', pick(method, { GET: listGroupEligibilityScheduleInstances }));
  }
  if (first === 'groups' && s.length === 1) return result('groups', pick(method, { GET: listGroups }));
  if (first === 'groups' && second !== undefined && s[2] === 'owners' && s.length === 3) {
    return result('groups/{id}/owners', pick(method, { GET: (call) => listGroupOwners(call, second) }));
  }
  if (first === 'directoryObjects' && (second === 'getByIds' || second === 'microsoft.graph.getByIds') && s.length === 2) {
    return result('directoryObjects/getByIds', pick(method, { POST: getByIds }));
  }
  return result(first, segmentNotFound(first));
}

function newIds(ctx: EmulatorContext, req: EmuRequest): RequestIds {
  const requestId = randomUUID();
  return { requestId, clientRequestId: req.headers['client-request-id'] ?? requestId, date: new Date(ctx.now()).toUTCString() };
}

function withStandardHeaders(response: EmuResponse, ids: RequestIds): EmuResponse {
  return {
    ...response,
    headers: {
      ...(response.headers ?? {}),
      'request-id': ids.requestId,
      'client-request-id': ids.clientRequestId,
      date: ids.date,
      'x-ms-ags-diagnostic': JSON.stringify({ ServerInfo: { DataCenter: 'Emulator', Slice: 'E', Ring: '1', ScaleUnit: '000', RoleInstance: 'EMU' } }),
    },
  };
}

/** Turns a fault decision into Graph's answer (and counts it). */
export function faultResponse(ctx: EmulatorContext, decision: Exclude<FaultDecision, { kind: 'none' }>, ids: RequestIds, clientKey: string): EmuResponse {
  ctx.stats.recordFault(decision.kind);
  switch (decision.kind) {
    case 'throttled':
      return {
        status: 429,
        headers: {
          'content-type': 'application/json',
          'retry-after': String(decision.retryAfterSeconds),
          'x-ms-throttle-scope': `Tenant_Application/ReadWrite/${clientKey}/${ctx.tenant.tenantId}`,
          'x-ms-throttle-information': 'ResourceUnitLimitExceeded',
        },
        body: errorBody('TooManyRequests', 'Please retry again later.', ids, '429'),
      };
    case 'unavailable':
      return {
        status: 503,
        headers: { 'content-type': 'application/json', 'retry-after': String(decision.retryAfterSeconds) },
        body: errorBody('serviceNotAvailable', 'Service unavailable, please retry later.', ids),
      };
    case 'timeouts':
      return { status: 504, headers: { 'content-type': 'application/json' }, body: errorBody('GatewayTimeout', 'The request timed out.', ids) };
    case 'dropped':
      return { status: 0, destroy: true };
    default: {
      const exhaustive: never = decision;
      return exhaustive;
    }
  }
}

/**
 * The answer of a targeted fault rule (src/emulator/faults.ts, FaultRules): Graph's error shapes, or
 * a 200 whose body is no collection. `path` is the request's path without its version segment.
 */
function targetedFault(ctx: EmulatorContext, req: EmuRequest, ids: RequestIds, clientKey: string): EmuResponse | undefined {
  // No rules (every run but the tests that set some): nothing to compute per request or item.
  if (ctx.faults.rules.empty) return undefined;
  const path = req.rawPath.replace(/^\/(v1\.0|beta)(?=\/)/, '');
  const answer: FaultRule['answer'] | undefined = ctx.faults.rules.take(req.method, path);
  if (answer === undefined) return undefined;
  const retryAfterSeconds = ctx.faults.settings.retryAfterSeconds;
  switch (answer) {
    case 403:
      return json(403, errorBody('Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', ids));
    case 404:
      return json(
        404,
        errorBody(
          'Request_ResourceNotFound',
          `Resource '${path.split('/')[2] ?? ''}' does not exist or one of its queried reference-property objects are not present.`,
          ids,
        ),
      );
    case 429:
      return faultResponse(ctx, { kind: 'throttled', retryAfterSeconds }, ids, clientKey);
    case 503:
      return faultResponse(ctx, { kind: 'unavailable', retryAfterSeconds }, ids, clientKey);
    case 500:
      return json(500, errorBody('InternalServerError', 'The service failed to process the request.', ids));
    case 'malformed':
      return json(200, { '@odata.context': `${ctx.origin}/v1.0/$metadata#unexpected`, value: 'not a collection' });
    default: {
      const exhaustive: never = answer;
      return exhaustive;
    }
  }
}

/** The OData system query options the directory knows (`$skip` has its own refusal, `$levels` lives inside `$expand`). */
const SYSTEM_QUERY_OPTIONS = new Set([
  '$select',
  '$expand',
  '$filter',
  '$orderby',
  '$top',
  '$skip',
  '$count',
  '$search',
  '$format',
  '$skiptoken',
  '$deltatoken',
]);

/**
 * A `$`-prefixed query option Graph does not know is refused, not ignored: OData reserves `$` for
 * system query options (custom options "MUST NOT begin with the $ or @ character", OData URL
 * conventions), and the directory answers an argument it does not recognise with 400
 * "Unrecognized query argument specified: '…'." (the message of known issue 18185, where an
 * encoded `&` in `$search` makes such an argument; docs/graph-facts.md#listing-users).
 */
function assertKnownSystemQueryOptions(req: EmuRequest): void {
  for (const key of req.url.searchParams.keys()) {
    if (key.startsWith('$') && !SYSTEM_QUERY_OPTIONS.has(key.toLowerCase())) {
      throw new GraphError(400, 'Request_BadRequest', `Unrecognized query argument specified: '${key.slice(0, 100)}'.`);
    }
  }
}

/** Graph's 429 for a request over the app+tenant's directory budget (docs/graph-facts.md#throttling). */
function overBudgetResponse(decision: Extract<ThrottleDecision, { kind: 'throttled' }>, ids: RequestIds): EmuResponse {
  return {
    status: 429,
    headers: {
      'content-type': 'application/json',
      'retry-after': String(decision.retryAfterSeconds),
      'x-ms-throttle-scope': decision.scope,
      'x-ms-throttle-information': decision.information,
    },
    body: errorBody('TooManyRequests', 'Please retry again later.', ids, '429'),
  };
}

/** Prices one request or `$batch` item and charges it to its app+tenant (src/emulator/throttling.ts). */
function chargeDirectory(ctx: EmulatorContext, req: EmuRequest, route: string, clientKey: string): ThrottleDecision {
  const decision = ctx.throttle.charge(clientKey, ctx.tenant.tenantId, directoryCost(route, req.url.searchParams), ctx.now());
  ctx.stats.recordDirectory(decision);
  return decision;
}

/** Authenticates and runs one matched (non-batch) request; Graph errors become responses. */
export async function dispatchGraph(ctx: EmulatorContext, req: EmuRequest, match: RouteMatch, ids: RequestIds): Promise<EmuResponse> {
  try {
    const principal = await authenticate(ctx, req);
    if (match.error) throw match.error;
    if (match.isBatch) throw new GraphError(400, 'BadRequest', 'Nested batch requests are not supported.');
    if (!match.run) throw new GraphError(404, 'Request_ResourceNotFound', 'No such resource.');
    assertJsonContentType(req, match.template);
    assertKnownSystemQueryOptions(req);
    const call: GraphCall = { ctx, req, version: match.version, principal, ids };
    return { ...(await match.run(call)), route: match.template };
  } catch (error) {
    if (error instanceof GraphError) return { ...errorResponse(error, ids), route: match.template };
    return {
      status: 500,
      headers: { 'content-type': 'application/json' },
      body: errorBody('InternalServerError', 'The emulator failed to process the request.', ids),
      route: match.template,
    };
  }
}

export async function handleGraph(ctx: EmulatorContext, req: EmuRequest): Promise<EmuResponse> {
  const ids = newIds(ctx, req);
  settleOperations(ctx.tenant, ctx.now());
  const match = matchRoute(req.method, req.rawPath);
  // Latency is per upstream HTTP request: a `$batch` envelope waits once, not per item.
  await ctx.faults.delay();
  const clientKey = unverifiedClientKey(req);
  const decision = ctx.faults.decide(clientKey, ctx.now());
  if (decision.kind !== 'none') {
    const faulted = faultResponse(ctx, decision, ids, clientKey);
    return { ...(faulted.destroy ? faulted : withStandardHeaders(faulted, ids)), route: match.template };
  }
  if (match.isBatch) {
    const response = await handleBatch(ctx, req, match.version, ids, async (itemReq) => {
      const itemMatch = matchRoute(itemReq.method, itemReq.rawPath);
      const itemIds = newIds(ctx, itemReq);
      const targeted = targetedFault(ctx, itemReq, itemIds, clientKey);
      if (targeted) return { ...targeted, route: itemMatch.template };
      const itemDecision = ctx.faults.decide(clientKey, ctx.now(), { honourRetryAfter: false });
      if (itemDecision.kind !== 'none') {
        // A batch item cannot drop a connection; it times out instead.
        const decisionForItem = itemDecision.kind === 'dropped' ? ({ kind: 'timeouts' } as const) : itemDecision;
        return { ...faultResponse(ctx, decisionForItem, itemIds, clientKey), route: itemMatch.template };
      }
      // Each item is priced and charged on its own; the envelope is not (docs/graph-facts.md#throttling).
      const itemBudget = chargeDirectory(ctx, itemReq, itemMatch.template, clientKey);
      if (itemBudget.kind === 'throttled') return { ...overBudgetResponse(itemBudget, itemIds), route: itemMatch.template };
      return dispatchGraph(ctx, itemReq, itemMatch, itemIds);
    });
    return { ...withStandardHeaders(response, ids), route: match.template };
  }
  const targeted = targetedFault(ctx, req, ids, clientKey);
  if (targeted) return { ...withStandardHeaders(targeted, ids), route: match.template };
  const budget = chargeDirectory(ctx, req, match.template, clientKey);
  if (budget.kind === 'throttled') return { ...withStandardHeaders(overBudgetResponse(budget, ids), ids), route: match.template };
  const response = await dispatchGraph(ctx, req, match, ids);
  return { ...withStandardHeaders({ ...response, headers: { ...(response.headers ?? {}), ...budget.headers } }, ids), route: match.template };
}
