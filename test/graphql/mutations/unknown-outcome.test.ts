import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPrng } from '../../../src/emulator/prng.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { auditEvents, ordinaryUserPicker } from './support.js';

/**
 * Writes under the emulator's fault injection (docs/security.md#writes-with-an-unknown-outcome,
 * docs/graph-facts.md#throttling): a write Graph applied but answered too slowly is sent exactly
 * once and reported as UNKNOWN with its client-request-id, never as a plain failure; a write Graph
 * refused with 429/503 is repeated; throttled steps and writes tell the caller when to retry.
 * Upstream writes are counted at the emulator.
 */

let emulator: TestEmulator;
/** Graph calls time out after 300 ms; one retry, so a repeated write would show as 2. */
let slow: TestGateway;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Longer than the timeout, so Graph applies the write after the gateway stopped waiting. */
const LATENCY_MS = 700;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 100 });
  slow = await startTestGateway({ emulator, env: { DEPLOYMENT_MODE: 'self-deployed', UPSTREAM_TIMEOUT_MS: '300', MAX_RETRIES: '1' } });
  // Token cached and connections warm, so the latency below only slows Graph writes.
  expect((await slow.graphql('{ users(first: 1) { nodes { id } } }')).errors).toBeUndefined();
}, 60_000);

afterAll(async () => {
  await slow?.close();
  await emulator?.close();
});

beforeEach(async () => {
  emulator.context.faults.reset();
  await emulator.resetStats();
});

afterEach(async () => {
  emulator.context.faults.reset();
  // Let a slowed request the gateway gave up on finish inside the emulator before the next test.
  await sleep(LATENCY_MS + 200);
});

const ordinaryUser = ordinaryUserPicker(() => emulator);

/** The client-request-ids of the Graph calls the gateway gave up on (its debug log). */
function timedOutClientRequestIds(gateway: TestGateway): string[] {
  return gateway
    .logRecords('Graph call failed')
    .filter((r) => r.status === 'timeout')
    .map((r) => r.clientRequestId as string);
}

describe('a write Graph applied but answered after UPSTREAM_TIMEOUT_MS', () => {
  it('changePassword: exactly one PATCH, an UNKNOWN outcome with its client-request-id, the password really changed, audited as unknown', async () => {
    const target = ordinaryUser();
    const password = `Sl0w!${Math.random().toString(36).slice(2, 10)}#Net`;
    await emulator.setFaults({ latencyMs: LATENCY_MS });
    const result = await slow.graphql(`mutation SlowPw($input: ChangePasswordInput!) { changePassword(input: $input) { requestId } }`, {
      input: { user: target.id, password, forceChangePasswordNextSignIn: false },
    });
    await sleep(LATENCY_MS + 200);

    expect(result.data?.changePassword ?? null).toBeNull();
    const error = result.errors![0]!;
    expect(error.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outcome: 'UNKNOWN', clientRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(error.message).toContain('may have applied');
    expect(error.message).toContain(error.extensions!.clientRequestId);
    expect(timedOutClientRequestIds(slow)).toContain(error.extensions!.clientRequestId);
    // Setting the same password again is harmless: the caller may repeat it, and is told when.
    expect(error.extensions!.retryAfterSeconds).toEqual(expect.any(Number));

    expect((await emulator.stats()).byRoute['PATCH /v1.0/users/{id}']).toBe(1);
    expect(target._password).toBe(password);
    expect(JSON.stringify(result)).not.toContain(password);

    const event = auditEvents(slow)
      .filter((e) => e.operationName === 'SlowPw')
      .pop()!;
    expect(event).toMatchObject({ operation: 'changePassword', outcome: 'unknown', reason: 'UPSTREAM_UNAVAILABLE' });
    expect(event.steps).toEqual([
      { step: 'SET_PASSWORD', succeeded: false, outcome: 'UNKNOWN', errorCode: 'UPSTREAM_UNAVAILABLE', clientRequestId: error.extensions!.clientRequestId },
    ]);
  });

  it('terminateSession: exactly one $batch, both steps UNKNOWN with the batch client-request-id, and Graph did apply them', async () => {
    const target = ordinaryUser();
    await emulator.setFaults({ latencyMs: LATENCY_MS });
    const result = await slow.graphql(
      `mutation SlowKill($u: ID!) { terminateSession(input: { user: $u }) { succeeded steps { step succeeded outcome clientRequestId error { code message } } } }`,
      { u: target.id },
    );
    await sleep(LATENCY_MS + 200);

    expect(result.errors).toBeUndefined();
    const payload = result.data!.terminateSession;
    expect(payload.succeeded).toBe(false);
    expect(payload.steps.map((s: any) => [s.step, s.succeeded, s.outcome, s.error.code])).toEqual([
      ['REVOKE_SESSIONS', false, 'UNKNOWN', 'UPSTREAM_UNAVAILABLE'],
      ['DISABLE_ACCOUNT', false, 'UNKNOWN', 'UPSTREAM_UNAVAILABLE'],
    ]);
    const [clientRequestId] = payload.steps.map((s: any) => s.clientRequestId);
    expect(payload.steps[1].clientRequestId).toBe(clientRequestId);
    expect(timedOutClientRequestIds(slow)).toContain(clientRequestId);
    expect(payload.steps[0].error.message).toContain('may have applied');

    const stats = await emulator.stats();
    expect(stats.byRoute['POST /v1.0/$batch']).toBe(1);
    expect(stats.batch.items).toBe(3);
    expect(target.accountEnabled).toBe(false);

    const event = auditEvents(slow)
      .filter((e) => e.operationName === 'SlowKill')
      .pop()!;
    expect(event.outcome).toBe('unknown');
    expect(event.steps.map((s: any) => [s.step, s.outcome, s.clientRequestId])).toEqual([
      ['REVOKE_SESSIONS', 'UNKNOWN', clientRequestId],
      ['DISABLE_ACCOUNT', 'UNKNOWN', clientRequestId],
    ]);
  });

  it('createUser (not idempotent): exactly one POST, UNKNOWN without a retry hint, the user exists once', async () => {
    const upn = `slow.${Date.now()}@${emulator.tenant.domain}`;
    await emulator.setFaults({ latencyMs: LATENCY_MS });
    const result = await slow.graphql(`mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }`, {
      i: { userPrincipalName: upn, displayName: 'Slow', mailNickname: 'slow', password: 'Sl0w-Create!User#9' },
    });
    await sleep(LATENCY_MS + 200);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outcome: 'UNKNOWN', clientRequestId: expect.any(String) });
    expect(result.errors![0]!.extensions!.retryAfterSeconds).toBeUndefined();
    expect(result.errors![0]!.message).toContain('Check the current state before trying again');
    expect((await emulator.stats()).byRoute['POST /v1.0/users']).toBe(1);
    expect([...emulator.tenant.users.values()].filter((u) => u.userPrincipalName === upn)).toHaveLength(1);
  });

  it('reads are still repeated after a timeout', async () => {
    const target = ordinaryUser();
    await emulator.setFaults({ latencyMs: LATENCY_MS });
    const result = await slow.graphql(`query($id: ID!) { user(id: $id) { id jobTitle } }`, { id: target.id });
    await sleep(LATENCY_MS + 200);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(result.errors![0]!.extensions!.outcome).toBeUndefined();
    expect((await emulator.stats()).byRoute['GET /v1.0/users/{id}']).toBe(2);
  });
});

describe('a write Graph certainly did not apply', () => {
  it('503 answered: repeated (2 PATCHes with MAX_RETRIES=1), then a FAILED outcome; nothing changed', async () => {
    const target = ordinaryUser();
    await emulator.setFaults({ unavailableRate: 1, retryAfterSeconds: 0 });
    const result = await slow.graphql(`mutation($u: ID!) { disableAccount(input: { user: $u }) { accountEnabled } }`, { u: target.id });
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outcome: 'FAILED', retryAfterSeconds: 0 });
    expect((await emulator.stats()).byRoute['PATCH /v1.0/users/{id}']).toBe(2);
    expect(target.accountEnabled).toBe(true);
  });
});

describe('throttled writes say when to retry (Graph Retry-After)', () => {
  let strict: TestGateway | undefined;
  /** A gateway that does not retry, with its own rate governor (a 429 pauses it for Retry-After). */
  const noRetries = async () => (strict = await startTestGateway({ emulator, env: { DEPLOYMENT_MODE: 'self-deployed', MAX_RETRIES: '0' } }));
  afterEach(async () => {
    await strict?.close();
    strict = undefined;
  });

  const TERMINATE = `mutation($u: ID!) { terminateSession(input: { user: $u }) { succeeded steps { step outcome error { code retryAfterSeconds } } } }`;

  it('a throttled $batch envelope: every step carries the envelope Retry-After', async () => {
    const gateway = await noRetries();
    await gateway.graphql('{ users(first: 1) { nodes { id } } }');
    const target = ordinaryUser();
    await emulator.setFaults({ throttleRate: 1, retryAfterSeconds: 9 });
    const result = await gateway.graphql(TERMINATE, { u: target.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.terminateSession.steps).toEqual([
      { step: 'REVOKE_SESSIONS', outcome: 'FAILED', error: { code: 'THROTTLED', retryAfterSeconds: 9 } },
      { step: 'DISABLE_ACCOUNT', outcome: 'FAILED', error: { code: 'THROTTLED', retryAfterSeconds: 9 } },
    ]);
    expect(target.accountEnabled).toBe(true);
  });

  it('throttled items inside a $batch: each step carries the Retry-After of its own item', async () => {
    const gateway = await noRetries();
    await gateway.graphql('{ users(first: 1) { nodes { id } } }');
    // The dice are seeded: pick a seed whose first roll lets the envelope through and whose next three throttle
    // every item (the two writes and the read of who the user is).
    let seed = 1;
    for (; ; seed += 1) {
      const dice = createPrng(seed);
      if (dice.next() >= 0.5 && dice.next() < 0.5 && dice.next() < 0.5 && dice.next() < 0.5) break;
    }
    const target = ordinaryUser();
    await emulator.resetStats();
    await emulator.setFaults({ throttleRate: 0.5, retryAfterSeconds: 8, seed });
    const result = await gateway.graphql(TERMINATE, { u: target.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.terminateSession.steps).toEqual([
      { step: 'REVOKE_SESSIONS', outcome: 'FAILED', error: { code: 'THROTTLED', retryAfterSeconds: 8 } },
      { step: 'DISABLE_ACCOUNT', outcome: 'FAILED', error: { code: 'THROTTLED', retryAfterSeconds: 8 } },
    ]);
    const stats = await emulator.stats();
    expect(stats.batch.requests).toBe(1);
    expect(stats.faults.throttled).toBe(3);
  });

  it.each([
    ['disableAccount', (u: string) => `disableAccount(input: { user: "${u}" }) { accountEnabled }`],
    ['revokeSignInSessions', (u: string) => `revokeSignInSessions(input: { user: "${u}" }) { revoked }`],
    [
      'terminateSession without disabling (the revocation and the lookup of who the user is, one $batch)',
      (u: string) => `terminateSession(input: { user: "${u}", disableAccount: false }) { steps { error { retryAfterSeconds } } }`,
    ],
  ])('a throttled single write (%s): retryAfterSeconds where the caller reads it', async (name, field) => {
    const gateway = await noRetries();
    await gateway.graphql('{ users(first: 1) { nodes { id } } }');
    const target = ordinaryUser();
    await emulator.setFaults({ throttleRate: 1, retryAfterSeconds: 9 });
    const result = await gateway.graphql(`mutation { ${field(target.id)} }`);
    if (name.startsWith('terminateSession')) {
      expect(result.data!.terminateSession.steps).toEqual([{ error: { retryAfterSeconds: 9 } }]);
    } else {
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'THROTTLED', outcome: 'FAILED', retryAfterSeconds: 9 });
    }
  });
});
