import type { GatewayError } from '../errors.js';
import type { GraphClient } from '../graph/client.js';
import { graphPaths, relativeUrl } from '../graph/paths.js';
import { isGetByIdsRefusal } from '../graph/bulk-lookup-route.js';
import { getByIdsRequest } from '../graph/requests.js';
import type { GraphResult } from '../graph/types.js';
import type { GraphWrites, WriteOutcome } from '../graph/writes.js';
import type { Check } from './report.js';
import type { TokenClaims } from './token-claims.js';

function resultCheck(id: string, what: string, result: GraphResult, extra = ''): Check {
  if (result.ok) {
    return {
      id,
      status: 'ok',
      message: `${what}: ${result.status}${result.requestId ? ` (request-id ${result.requestId})` : ''}${extra}`,
      httpStatus: result.status,
      ...(result.requestId ? { requestId: result.requestId } : {}),
    };
  }
  const requestId = result.requestId;
  return {
    id,
    status: 'failed',
    message: `${what}: ${result.status ?? 'no answer'}: ${result.error.message}${requestId ? ` (request-id ${requestId})` : ''}`,
    ...(result.status !== undefined ? { httpStatus: result.status } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

/**
 * The reads every gateway operation builds on, each once: one page of users, one JSON `$batch`
 * (two GETs), one `getByIds`. Each line carries Graph's status and request-id, which is what
 * Microsoft support asks for.
 */
export async function readProbes(graph: GraphClient): Promise<Check[]> {
  const list = await graph.request<{ value?: Array<{ id?: string }> }>({
    method: 'GET',
    path: graphPaths.users(),
    query: { $top: '1', $select: 'id,displayName' },
  });
  const checks = [resultCheck('probe:list', 'probe GET /users?$top=1', list)];
  const someone = list.ok ? list.body?.value?.[0]?.id : undefined;
  if (!someone) {
    const why = list.ok ? 'the tenant returned no user' : 'listing users failed';
    checks.push(
      { id: 'probe:batch', status: 'skipped', message: `probe POST /$batch: skipped, ${why}` },
      { id: 'probe:getByIds', status: 'skipped', message: `probe POST /directoryObjects/getByIds: skipped, ${why}` },
    );
    return checks;
  }
  const batch = await graph.request<{ responses?: Array<{ id?: string; status?: number }> }>({
    method: 'POST',
    path: graphPaths.batch(),
    body: {
      requests: [
        { id: '1', method: 'GET', url: relativeUrl(graphPaths.users(), { $top: '1', $select: 'id' }) },
        { id: '2', method: 'GET', url: relativeUrl(graphPaths.user(someone), { $select: 'id,displayName' }) },
      ],
    },
    // Two reads: repeating the envelope changes nothing.
    effect: 'read',
  });
  if (batch.ok) {
    const items = (batch.body?.responses ?? []).map((r) => `${r.id ?? '?'}: ${r.status ?? '?'}`).sort();
    const failedItem = (batch.body?.responses ?? []).some((r) => typeof r.status !== 'number' || r.status < 200 || r.status >= 300) || items.length !== 2;
    const check = resultCheck('probe:batch', 'probe POST /$batch (2 GETs)', batch, `, items ${items.join(', ')}`);
    checks.push(failedItem ? { ...check, status: 'failed' } : check);
  } else checks.push(resultCheck('probe:batch', 'probe POST /$batch (2 GETs)', batch));
  const byIds = await graph.request(getByIdsRequest([someone], ['id', 'displayName']));
  if (!byIds.ok && isGetByIdsRefusal(byIds)) {
    // Without Directory.Read.All the gateway looks users up by id through $batch (probed above).
    checks.push({
      ...resultCheck('probe:getByIds', 'probe POST /directoryObjects/getByIds (1 id)', byIds),
      status: 'ok',
      message: `probe POST /directoryObjects/getByIds (1 id): 403 Authorization_RequestDenied${byIds.error.extensions.requestId ? ` (request-id ${byIds.error.extensions.requestId})` : ''}: lookups by id will go through $batch, 20 ids per request; grant Directory.Read.All for 1,000 per request`,
    });
  } else checks.push(resultCheck('probe:getByIds', 'probe POST /directoryObjects/getByIds (1 id)', byIds));
  return checks;
}

function writeCheck(id: string, what: string, outcome: WriteOutcome<unknown>): Check {
  if (outcome.succeeded) {
    return {
      id,
      status: 'ok',
      message: `${what}: ${outcome.status}${outcome.requestId ? ` (request-id ${outcome.requestId})` : ''}`,
      httpStatus: outcome.status,
      ...(outcome.requestId ? { requestId: outcome.requestId } : {}),
    };
  }
  return {
    id,
    status: 'failed',
    message: `${what}: ${outcome.status ?? 'no answer'}: ${outcome.error.message}${outcome.requestId ? ` (request-id ${outcome.requestId})` : ''}`,
    ...(outcome.status !== undefined ? { httpStatus: outcome.status } : {}),
    ...(outcome.requestId ? { requestId: outcome.requestId } : {}),
  };
}

/**
 * The containment writes, on the one named test user and nobody else: revoke its sessions, disable
 * it, and always enable it again, whatever failed in between. A failed re-enable is the loudest line
 * of the report (the doctor left the user disabled).
 */
export async function writeProbes(graph: GraphClient, writes: GraphWrites, testUser: string, claims: TokenClaims): Promise<Check[]> {
  let lookup: GraphResult<{ id?: string; userPrincipalName?: string; accountEnabled?: boolean }>;
  try {
    lookup = await graph.request({ method: 'GET', path: graphPaths.user(testUser), query: { $select: 'id,userPrincipalName,accountEnabled' } });
  } catch (error) {
    return [{ id: 'write:test-user', status: 'failed', message: `test user: ${(error as Error).message}` }];
  }
  if (!lookup.ok) return [resultCheck('write:test-user', `test user ${testUser}`, lookup)];
  const user = lookup.body;
  const id = user?.id;
  if (!id) return [{ id: 'write:test-user', status: 'failed', message: `test user ${testUser}: Graph returned no id` }];
  const name = `${user.userPrincipalName ?? testUser} (${id})`;
  if (claims.kind === 'user' && claims.objectId?.toLowerCase() === id.toLowerCase()) {
    return [
      {
        id: 'write:test-user',
        status: 'failed',
        message: `test user ${name} is the signed-in user: disabling it would lock the gateway out; name another user`,
      },
    ];
  }
  if (user.accountEnabled === false) {
    return [
      {
        id: 'write:test-user',
        status: 'skipped',
        message: `test user ${name} is disabled; the write probes disable and re-enable an enabled user only, so its state can be restored: enable it or name another test user`,
      },
    ];
  }
  const checks: Check[] = [
    { id: 'write:test-user', status: 'ok', message: `test user ${name} found and enabled`, ...(lookup.requestId ? { requestId: lookup.requestId } : {}) },
  ];
  try {
    checks.push(
      writeCheck(
        'write:revoke',
        `write POST /users/{id}/revokeSignInSessions (with a GET of the user in one $batch) on ${name}`,
        await writes.revokeSignInSessions(id),
      ),
    );
    checks.push(writeCheck('write:disable', `write PATCH /users/{id} {accountEnabled:false} on ${name}`, await writes.disableAccount(id)));
  } finally {
    const enabled = await writes.enableAccount(id).catch((error: unknown): WriteOutcome => ({
      outcome: 'FAILED',
      succeeded: false,
      requestId: undefined,
      clientRequestId: undefined,
      status: undefined,
      error: error as GatewayError,
    }));
    const check = writeCheck('write:re-enable', `write PATCH /users/{id} {accountEnabled:true} on ${name}`, enabled);
    // Whatever the PATCH said, what counts is the state the user is left in.
    const verify = await graph.request<{ accountEnabled?: boolean }>({ method: 'GET', path: graphPaths.user(id), query: { $select: 'id,accountEnabled' } });
    const isEnabled = verify.ok && verify.body?.accountEnabled === true;
    const fix = `enable it now in the Entra admin center (Users → ${user.userPrincipalName ?? id} → Edit properties → Account enabled)`;
    if (isEnabled) checks.push(check.status === 'ok' ? check : { ...check, message: `${check.message}; the user is enabled all the same` });
    else if (check.status === 'ok')
      checks.push({
        ...check,
        status: 'failed',
        critical: true,
        message: `RE-ENABLE NOT CONFIRMED: test user ${name} may be left DISABLED (Graph did not show accountEnabled=true afterwards); ${fix}`,
      });
    else checks.push({ ...check, critical: true, message: `RE-ENABLE FAILED: test user ${name} is left DISABLED: ${check.message}; ${fix}` });
  }
  return checks;
}
