import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * The operation deadline (OPERATION_TIMEOUT_MS) and cancellation of a caller who went
 * away, end to end over real sockets against the emulator with injected latency.
 */

let emulator: TestEmulator;
let gateway: TestGateway;
/** Default deadline (30 s): the disconnect test must not be cut short by the deadline instead. */
let patient: TestGateway;
/** A user three managers deep: `user { manager { manager { manager } } }` takes sequential calls. */
let deepUserId: string;

beforeAll(async () => {
  emulator = await startTestEmulator();
  gateway = await startTestGateway({ emulator, env: { OPERATION_TIMEOUT_MS: '700' } });
  patient = await startTestGateway({ emulator });
  let best: { id: string; depth: number } | undefined;
  for (const user of emulator.tenant.users.values()) {
    let depth = 0;
    for (let m = user.managerId; m; m = emulator.tenant.users.get(m)?.managerId ?? null) depth += 1;
    if (!best || depth > best.depth) best = { id: user.id, depth };
  }
  expect(best!.depth).toBeGreaterThanOrEqual(3);
  deepUserId = best!.id;
  // Warm the Graph token so the latency below only slows Graph calls.
  for (const g of [gateway, patient]) {
    const warm = await g.graphql('query($id: ID!) { user(id: $id) { id } }', { id: deepUserId });
    expect(warm.errors).toBeUndefined();
  }
});

afterAll(async () => {
  await emulator?.setFaults({ latencyMs: 0 }).catch(() => undefined);
  await gateway?.close();
  await patient?.close();
  await emulator?.close();
});

beforeEach(async () => {
  await emulator.setFaults({ latencyMs: 0 });
});

const CHAIN = 'query($id: ID!) { user(id: $id) { id manager { id manager { id manager { id displayName } } } } }';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('operation deadline', () => {
  it('answers UPSTREAM_UNAVAILABLE with a retry hint soon after OPERATION_TIMEOUT_MS when Graph is slow, not after Graph answers', async () => {
    await emulator.setFaults({ latencyMs: 2000 });
    const started = performance.now();
    const result = await gateway.graphql('query($id: ID!) { user(id: $id) { id displayName } }', { id: deepUserId });
    const elapsed = performance.now() - started;

    expect(elapsed).toBeLessThan(1_300);
    expect(elapsed).toBeGreaterThanOrEqual(600);
    expect(result.status).not.toBe(500);
    expect(result.data?.user ?? null).toBeNull();
    const error = result.errors?.[0];
    expect(error?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error?.extensions?.reason).toBe('OPERATION_TIMEOUT');
    expect(error?.extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error?.message).toContain('700 ms');
  });

  it('cuts a chain of sequential calls at the deadline, with the error on the field that was waiting', async () => {
    await emulator.setFaults({ latencyMs: 300 });
    const started = performance.now();
    const result = await gateway.graphql(CHAIN, { id: deepUserId });
    expect(performance.now() - started).toBeLessThan(1_300);
    expect(result.status).not.toBe(500);
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(result.errors?.[0]?.path?.slice(0, 2)).toEqual(['user', 'manager']);
    // What arrived before the deadline is still answered.
    expect(result.data?.user?.id).toBe(deepUserId);
  });

  it('leaves fast operations alone', async () => {
    const result = await gateway.graphql(CHAIN, { id: deepUserId });
    expect(result.errors).toBeUndefined();
    expect(result.data?.user?.manager?.manager?.manager?.id).toEqual(expect.any(String));
  });
});

describe('a caller who disconnects', () => {
  it('stops the operation: no further Graph calls after the client aborted', async () => {
    await emulator.setFaults({ latencyMs: 250 });
    // What the whole operation costs when the caller waits for it.
    await emulator.resetStats();
    const full = await patient.graphql(CHAIN, { id: deepUserId });
    expect(full.errors).toBeUndefined();
    const fullCalls = (await emulator.stats()).graphRequests;
    expect(fullCalls).toBeGreaterThanOrEqual(3);

    await emulator.resetStats();
    const controller = new AbortController();
    const pending = fetch(`${patient.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: CHAIN, variables: { id: deepUserId } }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    // Past the first call, inside the second of the sequential calls.
    await sleep(375);
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);

    // The call in flight at the abort may still land; nothing after it may start.
    await sleep(400);
    const soonAfter = (await emulator.stats()).graphRequests;
    await sleep(900);
    const later = (await emulator.stats()).graphRequests;
    expect(later).toBe(soonAfter);
    expect(later).toBeLessThan(fullCalls);
    expect(later).toBeLessThanOrEqual(2);
  });
});
