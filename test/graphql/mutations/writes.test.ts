import { describe, expect, it } from 'vitest';
import { ErrorCode, GatewayError } from '../../../src/errors.js';
import type { GraphRequest, GraphResult } from '../../../src/graph/types.js';
import { graphFailure } from '../../../src/graph/upstream-failure.js';
import { createGraphWrites, pickPasswordMethod, PASSWORD_METHOD_ID, type GraphPrimitives } from '../../../src/graph/writes.js';

/**
 * The write layer over an injected pair of primitives (the client's `request`/`batch` seam):
 * polling discipline of the password reset operation with a virtual clock, and what is sent.
 */

const ENDPOINT = 'https://graph.example';
const OP_LOCATION = `${ENDPOINT}/v1.0/users/u1/authentication/operations/op-1`;

/** Answers each call in turn; a `$batch` takes one answer per item, in order. */
function scripted(answers: Array<(req: GraphRequest) => GraphResult>): { graph: GraphPrimitives; sent: GraphRequest[]; batches: GraphRequest[][] } {
  const sent: GraphRequest[] = [];
  const batches: GraphRequest[][] = [];
  const next = (req: GraphRequest) => {
    sent.push(req);
    const answer = answers.shift();
    if (!answer) throw new Error(`unexpected call ${req.method} ${req.path.path}`);
    return answer(req);
  };
  return {
    sent,
    batches,
    graph: {
      request: async <T>(req: GraphRequest) => next(req) as GraphResult<T>,
      batch: async (reqs) => {
        batches.push(reqs);
        return reqs.map(next);
      },
    },
  };
}

const ME = '0f0f0f0f-1111-4222-8333-444444444444';
/** The createUser input the write tests send (nothing but what a new user must have). */
const NEW_USER = {
  accountEnabled: true,
  displayName: 'd',
  mailNickname: 'm',
  userPrincipalName: 'm@x.example',
  password: 'p',
  forceChangePasswordNextSignIn: true,
};
const TARGET = '5a5a5a5a-1111-4222-8333-444444444444';
const me = () => ok({ id: ME });

const ok = (body: unknown, headers: Record<string, string> = {}, status = 200): GraphResult => ({
  ok: true,
  status,
  body,
  requestId: `rid-${Math.random()}`,
  headers,
});

function virtualClock() {
  let now = 0;
  const waits: number[] = [];
  return { now: () => now, sleep: async (ms: number) => void (waits.push(ms), (now += ms)), waits };
}

describe('resetPasswordOnPremises', () => {
  it('picks the password method by type, not blindly the first, honours Retry-After and reports SUCCEEDED', async () => {
    const clock = virtualClock();
    const { graph, sent, batches } = scripted([
      me,
      () =>
        ok({
          value: [
            { id: 'other', '@odata.type': '#microsoft.graph.emailAuthenticationMethod' },
            { id: PASSWORD_METHOD_ID, '@odata.type': '#microsoft.graph.passwordAuthenticationMethod' },
          ],
        }),
      () => ok(undefined, { location: OP_LOCATION, 'retry-after': '3' }, 202),
      () => ok({ status: 'running' }, { 'retry-after': '2' }),
      () => ok({ status: 'succeeded' }),
    ]);
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT, now: clock.now, sleep: clock.sleep });
    const outcome = await writes.resetPasswordOnPremises(TARGET, 'N3w-Passw0rd!');
    expect(outcome.succeeded).toBe(true);
    if (!outcome.succeeded) return;
    expect(outcome.value).toMatchObject({ status: 'SUCCEEDED', operationId: 'op-1', polls: 2 });
    expect(outcome.value.requestIds).toHaveLength(5);
    expect(clock.waits).toEqual([3000, 2000]);
    // The signed-in user's id rides in the same $batch as the method lookup: no extra round trip.
    expect(batches.map((b) => b.map((r) => `${r.method} ${r.path.path}`))).toEqual([['GET /me', `GET /users/${TARGET}/authentication/passwordMethods`]]);
    expect(sent[2]!.path.path).toBe(`/users/${TARGET}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`);
    expect(sent[2]!.effect).toBe('write');
    expect(sent[3]!.path.template).toBe('/users/{id}/authentication/operations/{operationId}');
  });

  it("refuses the signed-in user's own account with BAD_USER_INPUT before resetPassword, also when given by UPN", async () => {
    for (const user of [ME, 'me.myself@contoso.example']) {
      const { graph, sent, batches } = scripted([me, ...(user === ME ? [] : [() => ok({ id: ME })]), () => ok({ value: [{ id: PASSWORD_METHOD_ID }] })]);
      const outcome = await createGraphWrites({ graph, graphEndpoint: ENDPOINT }).resetPasswordOnPremises(user, 'pw');
      expect(outcome).toMatchObject({ succeeded: false, outcome: 'FAILED', error: { code: 'BAD_USER_INPUT' } });
      expect(batches).toHaveLength(1);
      expect(sent.some((r) => r.path.path.endsWith('/resetPassword'))).toBe(false);
    }
  });

  it('a target given by UPN is looked up in the same $batch and reset by object id; the signed-in id is looked up once per request', async () => {
    const { graph, batches, sent } = scripted([
      me,
      () => ok({ id: TARGET }),
      () => ok({ value: [{ id: PASSWORD_METHOD_ID }] }),
      () => ok(undefined, { location: OP_LOCATION }, 202),
      () => ok({ status: 'succeeded' }),
      // Second reset in the same request: no /me item any more.
      () => ok({ value: [{ id: PASSWORD_METHOD_ID }] }),
      () => ok(undefined, { location: OP_LOCATION }, 202),
      () => ok({ status: 'succeeded' }),
    ]);
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT, sleep: async () => undefined });
    expect((await writes.resetPasswordOnPremises('adele@contoso.example', 'pw')).succeeded).toBe(true);
    expect(sent[3]!.path.path).toBe(`/users/${TARGET}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`);
    expect((await writes.resetPasswordOnPremises(TARGET, 'pw')).succeeded).toBe(true);
    expect(batches.map((b) => b.map((r) => r.path.template))).toEqual([
      ['/me', '/users/{id}', '/users/{id}/authentication/passwordMethods'],
      ['/users/{id}/authentication/passwordMethods'],
    ]);
  });

  it('stops at the time budget with TIMED_OUT instead of polling forever', async () => {
    const clock = virtualClock();
    const running = () => ok({ status: 'running' }, { 'retry-after': '4' });
    const { graph } = scripted([
      me,
      () => ok({ value: [{ id: PASSWORD_METHOD_ID }] }),
      () => ok(undefined, { location: OP_LOCATION }, 202),
      ...Array.from({ length: 20 }, () => running),
    ]);
    const writes = createGraphWrites({
      graph,
      graphEndpoint: ENDPOINT,
      now: clock.now,
      sleep: clock.sleep,
      passwordResetTimeoutMs: 10_000,
      pollIntervalMs: 1000,
    });
    const outcome = await writes.resetPasswordOnPremises(TARGET, 'pw');
    expect(outcome.succeeded && outcome.value.status).toBe('TIMED_OUT');
    expect(clock.now()).toBeLessThanOrEqual(10_000);
  });

  it('refuses to follow an operation link that is not a password reset operation; the reset started, so its outcome is UNKNOWN', async () => {
    const { graph, sent } = scripted([
      me,
      () => ok({ value: [{ id: PASSWORD_METHOD_ID }] }),
      () => ok(undefined, { location: `${ENDPOINT}/v1.0/users/u1/manager` }, 202),
    ]);
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT, sleep: async () => undefined });
    const outcome = await writes.resetPasswordOnPremises(TARGET, 'pw');
    expect(outcome.succeeded).toBe(false);
    if (outcome.succeeded) return;
    expect(outcome.outcome).toBe('UNKNOWN');
    expect(outcome.error.code).toBe(ErrorCode.UPSTREAM_ERROR);
    expect(outcome.error.extensions).toMatchObject({ outcome: 'UNKNOWN' });
    expect(outcome.error.extensions.retryAfterSeconds).toBeUndefined();
    expect(sent).toHaveLength(3);
  });

  // authenticationmethod-resetpassword: 202 with a Location "Required" in its header table, yet its prose
  // says the answer "may also include" one; a field report shows the call answered without it
  // (docs/graph-facts.md#writes-and-permissions). A 200/204 is a finished request, a 202 only an accepted one.
  it.each([200, 204])('a %i without a Location is the reset carried out: SUCCEEDED, nothing polled', async (status) => {
    const { graph, sent } = scripted([
      me,
      () => ok({ value: [{ id: PASSWORD_METHOD_ID }] }),
      () => ok(status === 204 ? undefined : { '@odata.context': `${ENDPOINT}/v1.0/$metadata#microsoft.graph.passwordResetResponse` }, {}, status),
    ]);
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT, sleep: async () => expect.fail('nothing to wait for') });
    const outcome = await writes.resetPasswordOnPremises(TARGET, 'pw');
    expect(outcome).toMatchObject({ succeeded: true, outcome: 'SUCCEEDED', status });
    expect(outcome.succeeded && outcome.value).toMatchObject({ status: 'SUCCEEDED', operationId: undefined, polls: 0 });
    expect(outcome.requestIds).toHaveLength(3);
    expect(sent).toHaveLength(3);
  });

  it('a 202 without a Location is an accepted reset with no way to follow it: UNKNOWN, never repeated', async () => {
    const { graph, sent } = scripted([me, () => ok({ value: [{ id: PASSWORD_METHOD_ID }] }), () => ok({}, {}, 202)]);
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT, sleep: async () => expect.fail('nothing to wait for') });
    const outcome = await writes.resetPasswordOnPremises(TARGET, 'pw');
    expect(outcome).toMatchObject({ succeeded: false, outcome: 'UNKNOWN', error: { code: ErrorCode.UPSTREAM_ERROR, extensions: { outcome: 'UNKNOWN' } } });
    expect(sent).toHaveLength(3);
  });

  it('reports FAILED with Graph statusDetail', async () => {
    const { graph } = scripted([
      me,
      () => ok({ value: [{ id: PASSWORD_METHOD_ID }] }),
      () => ok(undefined, { location: OP_LOCATION }, 202),
      () => ok({ status: 'failed', statusDetail: 'The password does not meet complexity requirements.' }),
    ]);
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT, sleep: async () => undefined });
    const outcome = await writes.resetPasswordOnPremises(TARGET, 'pw');
    expect(outcome.succeeded && outcome.value).toMatchObject({ status: 'FAILED', statusDetail: 'The password does not meet complexity requirements.' });
  });
});

describe('writes', () => {
  it('pickPasswordMethod never takes an arbitrary first item', () => {
    expect(pickPasswordMethod([{ id: 'x', '@odata.type': '#microsoft.graph.phoneAuthenticationMethod' }])).toBeUndefined();
    expect(pickPasswordMethod([{ id: 'only' }])?.id).toBe('only');
    expect(pickPasswordMethod([{ id: 'a' }, { id: PASSWORD_METHOD_ID }])?.id).toBe(PASSWORD_METHOD_ID);
  });

  it('marks which writes are idempotent; revoke carries {}; terminateSession is one batch of two writes and the lookup of who the user is', async () => {
    const { graph, sent } = scripted(Array.from({ length: 9 }, () => () => ok(undefined, {}, 204)));
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT });
    await writes.disableAccount('u1');
    await writes.revokeSignInSessions('u1');
    await writes.setPassword('u1', { password: 'x', forceChangePasswordNextSignIn: true, forceChangePasswordNextSignInWithMfa: false });
    await writes.createUser(NEW_USER);
    await writes.createTemporaryAccessPass('u1', { lifetimeInMinutes: 60, isUsableOnce: false });
    // The revocation travels with a read of who the user is (an external user's sessions are not revoked).
    expect(sent.map((r) => r.effect ?? r.method)).toEqual(['idempotent-write', 'idempotent-write', 'GET', 'idempotent-write', 'write', 'write']);
    expect(sent[0]!.body).toEqual({ accountEnabled: false });
    expect(sent[1]!.body).toEqual({});
    expect(sent[2]!.query).toEqual({ $select: 'id,userPrincipalName,externalUserState' });
    expect((sent[4]!.body as Record<string, unknown>).accountEnabled).toBe(true);
    expect(sent[5]!.body).toEqual({ lifetimeInMinutes: 60, isUsableOnce: false });

    sent.length = 0;
    const result = await writes.terminateSession('u1', { disableAccount: true });
    expect(sent.map((r) => `${r.method} ${r.path.template}`)).toEqual(['POST /users/{id}/revokeSignInSessions', 'PATCH /users/{id}', 'GET /users/{id}']);
    expect(result.steps.map((s) => [s.step, s.succeeded, s.outcome])).toEqual([
      ['REVOKE_SESSIONS', true, 'SUCCEEDED'],
      ['DISABLE_ACCOUNT', true, 'SUCCEEDED'],
    ]);
  });

  it('a Temporary Access Pass request carries only what was given: Graph applies the tenant policy to the rest (docs/graph-facts.md#temporary-access-pass)', async () => {
    const { graph, sent } = scripted(Array.from({ length: 3 }, () => () => ok({ id: 'm', temporaryAccessPass: 'x' }, {}, 201)));
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT });
    await writes.createTemporaryAccessPass('u1', {});
    await writes.createTemporaryAccessPass('u1', { isUsableOnce: true });
    await writes.createTemporaryAccessPass('u1', { lifetimeInMinutes: 90, startDateTime: '2030-01-01T00:00:00Z' });
    expect(sent.map((r) => r.body)).toEqual([{}, { isUsableOnce: true }, { lifetimeInMinutes: 90, startDateTime: '2030-01-01T00:00:00Z' }]);
  });

  it('a failed step keeps its error and request id as a value', async () => {
    const error = new GatewayError(ErrorCode.FORBIDDEN, 'Microsoft Graph denied the operation: Authorization_RequestDenied: Insufficient privileges.', {
      requestId: 'rid-403',
    });
    const { graph } = scripted([() => graphFailure(error, { status: 403, scope: 'item', outcome: 'failed', clientRequestId: 'crid-1' })]);
    const outcome = await createGraphWrites({ graph, graphEndpoint: ENDPOINT }).disableAccount('u1');
    expect(outcome).toMatchObject({ succeeded: false, outcome: 'FAILED', status: 403, requestId: 'rid-403', clientRequestId: 'crid-1' });
    if (outcome.succeeded) return;
    expect(outcome.error.extensions).toMatchObject({ code: 'FORBIDDEN', outcome: 'FAILED', requestId: 'rid-403', clientRequestId: 'crid-1' });
  });

  it('a write sent without a conclusive answer is UNKNOWN, says so, and hints a retry only when repeating is safe', async () => {
    const timeout = new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'Microsoft Graph did not answer within 300 ms.', { retryAfterSeconds: 5 });
    const unknown = (): GraphResult => graphFailure(timeout, { status: undefined, scope: 'item', outcome: 'unknown', clientRequestId: 'crid-2' });
    const { graph } = scripted([unknown, unknown]);
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT });
    const disable = await writes.disableAccount('u1');
    const create = await writes.createUser(NEW_USER);
    for (const outcome of [disable, create]) {
      expect(outcome).toMatchObject({ succeeded: false, outcome: 'UNKNOWN', clientRequestId: 'crid-2' });
      if (outcome.succeeded) continue;
      expect(outcome.error.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(outcome.error.extensions).toMatchObject({ outcome: 'UNKNOWN', clientRequestId: 'crid-2' });
      expect(outcome.error.message).toContain('may have applied');
      expect(outcome.error.message).toContain('crid-2');
    }
    expect(!disable.succeeded && disable.error.extensions.retryAfterSeconds).toBe(5);
    expect(!create.succeeded && create.error.extensions.retryAfterSeconds).toBeUndefined();
  });

  it('assignManager references the manager by object id on the configured endpoint, and refuses anything else', async () => {
    const manager = '7e7e7e7e-1111-4222-8333-444444444444';
    const { graph, sent } = scripted([() => ok(undefined, {}, 204)]);
    const writes = createGraphWrites({ graph, graphEndpoint: 'https://graph.microsoft.us/' });
    await writes.assignManager('adele@contoso.example', manager.toUpperCase());
    expect(sent[0]!.body).toEqual({ '@odata.id': `https://graph.microsoft.us/v1.0/users/${manager}` });
    expect(() => writes.assignManager('adele@contoso.example', 'boss@contoso.example')).toThrow(TypeError);
  });

  it('resolveUserId: no request for a GUID, one $select=id GET per UPN per request, NOT_FOUND naming the argument', async () => {
    const { graph, sent } = scripted([
      () => ok({ id: TARGET.toUpperCase() }),
      () =>
        graphFailure(new GatewayError(ErrorCode.NOT_FOUND, 'Microsoft Graph has no such resource.', { requestId: 'rid-404' }), {
          status: 404,
          scope: 'item',
          outcome: 'failed',
        }),
    ]);
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT });
    expect(await writes.resolveUserId(ME.toUpperCase(), 'manager')).toEqual({ found: true, id: ME, requestId: undefined });
    expect(await writes.resolveUserId('Boss@contoso.example', 'manager')).toMatchObject({ found: true, id: TARGET });
    expect(await writes.resolveUserId('boss@CONTOSO.example', 'manager')).toMatchObject({ found: true, id: TARGET });
    const missing = await writes.resolveUserId('nobody@contoso.example', 'manager');
    expect(missing).toMatchObject({
      found: false,
      requestId: 'rid-404',
      error: { code: 'NOT_FOUND', extensions: { argument: 'manager', requestId: 'rid-404' } },
    });
    expect(sent.map((r) => `${r.method} ${r.path.path}?$select=${r.query?.$select}`)).toEqual([
      'GET /users/Boss@contoso.example?$select=id',
      'GET /users/nobody@contoso.example?$select=id',
    ]);
  });
});
