import { describe, expect, it } from 'vitest';
import { ErrorCode, GatewayError } from '../../src/errors.js';
import type { GraphRequest, GraphResult } from '../../src/graph/types.js';
import { createGraphWrites, pickPasswordMethod, PASSWORD_METHOD_ID, type GraphPrimitives } from '../../src/graph/writes.js';

/**
 * The write layer over an injected pair of primitives (the client's `request`/`batch` seam):
 * polling discipline of the password reset operation with a virtual clock, and what is sent.
 */

const ENDPOINT = 'https://graph.example';
const OP_LOCATION = `${ENDPOINT}/v1.0/users/u1/authentication/operations/op-1`;

function scripted(answers: Array<(req: GraphRequest) => GraphResult>): { graph: GraphPrimitives; sent: GraphRequest[] } {
  const sent: GraphRequest[] = [];
  return {
    sent,
    graph: {
      request: async <T>(req: GraphRequest) => {
        sent.push(req);
        const next = answers.shift();
        if (!next) throw new Error(`unexpected call ${req.method} ${req.path.path}`);
        return next(req) as GraphResult<T>;
      },
      batch: async (reqs) => {
        sent.push(...reqs);
        return reqs.map(() => ({ ok: true, status: 204, body: undefined, requestId: 'batch-rid', headers: {} }) as GraphResult);
      },
    },
  };
}

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
    const { graph, sent } = scripted([
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
    const outcome = await writes.resetPasswordOnPremises('u1', 'N3w-Passw0rd!');
    expect(outcome.succeeded).toBe(true);
    if (!outcome.succeeded) return;
    expect(outcome.value).toMatchObject({ status: 'SUCCEEDED', operationId: 'op-1', polls: 2 });
    expect(outcome.value.requestIds).toHaveLength(4);
    expect(clock.waits).toEqual([3000, 2000]);
    expect(sent[1]!.path.path).toBe(`/users/u1/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`);
    expect(sent[1]!.idempotent).toBe(false);
    expect(sent[2]!.path.template).toBe('/users/{id}/authentication/operations/{operationId}');
  });

  it('stops at the time budget with TIMED_OUT instead of polling forever', async () => {
    const clock = virtualClock();
    const running = () => ok({ status: 'running' }, { 'retry-after': '4' });
    const { graph } = scripted([
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
    const outcome = await writes.resetPasswordOnPremises('u1', 'pw');
    expect(outcome.succeeded && outcome.value.status).toBe('TIMED_OUT');
    expect(clock.now()).toBeLessThanOrEqual(10_000);
  });

  it('refuses to follow an operation link that is not a password reset operation', async () => {
    const { graph, sent } = scripted([
      () => ok({ value: [{ id: PASSWORD_METHOD_ID }] }),
      () => ok(undefined, { location: `${ENDPOINT}/v1.0/users/u1/manager` }, 202),
    ]);
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT, sleep: async () => undefined });
    const outcome = await writes.resetPasswordOnPremises('u1', 'pw');
    expect(outcome.succeeded).toBe(false);
    if (outcome.succeeded) return;
    expect(outcome.error.code).toBe(ErrorCode.UPSTREAM_ERROR);
    expect(sent).toHaveLength(2);
  });

  it('reports FAILED with Graph statusDetail', async () => {
    const { graph } = scripted([
      () => ok({ value: [{ id: PASSWORD_METHOD_ID }] }),
      () => ok(undefined, { location: OP_LOCATION }, 202),
      () => ok({ status: 'failed', statusDetail: 'The password does not meet complexity requirements.' }),
    ]);
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT, sleep: async () => undefined });
    const outcome = await writes.resetPasswordOnPremises('u1', 'pw');
    expect(outcome.succeeded && outcome.value).toMatchObject({ status: 'FAILED', statusDetail: 'The password does not meet complexity requirements.' });
  });
});

describe('writes', () => {
  it('pickPasswordMethod never takes an arbitrary first item', () => {
    expect(pickPasswordMethod([{ id: 'x', '@odata.type': '#microsoft.graph.phoneAuthenticationMethod' }])).toBeUndefined();
    expect(pickPasswordMethod([{ id: 'only' }])?.id).toBe('only');
    expect(pickPasswordMethod([{ id: 'a' }, { id: PASSWORD_METHOD_ID }])?.id).toBe(PASSWORD_METHOD_ID);
  });

  it('marks idempotent writes retryable and creations not; terminateSession is one batch of two', async () => {
    const { graph, sent } = scripted(Array.from({ length: 6 }, () => () => ok(undefined, {}, 204)));
    const writes = createGraphWrites({ graph, graphEndpoint: ENDPOINT });
    await writes.disableAccount('u1');
    await writes.revokeSignInSessions('u1');
    await writes.setPassword('u1', { password: 'x', forceChangePasswordNextSignIn: true, forceChangePasswordNextSignInWithMfa: false });
    await writes.createUser({
      accountEnabled: true,
      displayName: 'd',
      mailNickname: 'm',
      userPrincipalName: 'm@x.example',
      password: 'p',
      forceChangePasswordNextSignIn: true,
    });
    await writes.createTemporaryAccessPass('u1', { lifetimeInMinutes: 60, isUsableOnce: false });
    expect(sent.map((r) => r.idempotent)).toEqual([true, true, true, false, false]);
    expect(sent[0]!.body).toEqual({ accountEnabled: false });
    expect((sent[3]!.body as Record<string, unknown>).accountEnabled).toBe(true);

    sent.length = 0;
    const result = await writes.terminateSession('u1', { disableAccount: true });
    expect(sent.map((r) => `${r.method} ${r.path.template}`)).toEqual(['POST /users/{id}/revokeSignInSessions', 'PATCH /users/{id}']);
    expect(result.steps.map((s) => [s.step, s.succeeded, s.requestId])).toEqual([
      ['REVOKE_SESSIONS', true, 'batch-rid'],
      ['DISABLE_ACCOUNT', true, 'batch-rid'],
    ]);
  });

  it('a failed step keeps its error and request id as a value', async () => {
    const error = new GatewayError(ErrorCode.FORBIDDEN, 'Microsoft Graph denied the operation: Authorization_RequestDenied: Insufficient privileges.', {
      requestId: 'rid-403',
    });
    const { graph } = scripted([() => ({ ok: false, status: 403, error, scope: 'item' })]);
    const outcome = await createGraphWrites({ graph, graphEndpoint: ENDPOINT }).disableAccount('u1');
    expect(outcome).toMatchObject({ succeeded: false, status: 403, requestId: 'rid-403' });
  });
});
