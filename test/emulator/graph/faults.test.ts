import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { faultSettingsFromEnv, FaultInjector } from '../../../src/emulator/faults.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { graphCaller, mintToken } from './graph-client.js';

let emulator: TestEmulator;
let token: string;
let graph: ReturnType<typeof graphCaller>;
/** Injected clock: moving it past Retry-After lets a client in again without waiting. */
let clockOffsetMs = 0;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 50, now: () => Date.now() + clockOffsetMs });
  token = await mintToken(emulator);
  graph = graphCaller(emulator, () => token);
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  clockOffsetMs = 0;
  emulator.context.faults.reset();
  await emulator.resetStats();
});

describe('fault settings', () => {
  it('validates with messages that name the field', () => {
    const faults = new FaultInjector();
    expect(() => faults.configure({ throttleRate: 1.5 })).toThrow(/throttleRate.*between 0 and 1.*1\.5/);
    expect(() => faults.configure({ throttelRate: 0.1 })).toThrow(/unknown fault setting 'throttelRate'/);
    expect(() => faults.configure({ latencyMs: 'fast' })).toThrow(/latencyMs.*finite number/);
    expect(() => faults.configure([])).toThrow(/JSON object/);
    expect(faults.configure({ throttleRate: 0.25, seed: 7 })).toMatchObject({ throttleRate: 0.25, seed: 7, dropRate: 0 });
  });

  it('reads EMULATOR_* variables', () => {
    expect(
      faultSettingsFromEnv({ EMULATOR_THROTTLE_RATE: '0.2', EMULATOR_RETRY_AFTER_SECONDS: '3', EMULATOR_FAULT_SEED: '9', EMULATOR_LATENCY_MS: '' }),
    ).toEqual({
      throttleRate: 0.2,
      retryAfterSeconds: 3,
      seed: 9,
    });
    expect(() => faultSettingsFromEnv({ EMULATOR_DROP_RATE: 'lots' })).toThrow(/EMULATOR_DROP_RATE/);
  });

  it('the admin route refuses invalid settings with 400', async () => {
    const res = await emulator.fetch('/_emulator/faults', { method: 'POST', body: JSON.stringify({ unavailableRate: -1 }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('unavailableRate');
  });
});

describe('fault injection on Graph requests', () => {
  it('throttles at the configured rate (500 requests, rate 0.2), with Graph 429 bodies and Retry-After', async () => {
    await emulator.setFaults({ throttleRate: 0.2, retryAfterSeconds: 2, seed: 1234 });
    let throttled = 0;
    for (let i = 0; i < 500; i += 1) {
      const res = await graph('GET', '/v1.0/users?$top=1&$select=id');
      if (res.status === 429) {
        throttled += 1;
        expect(res.headers.get('retry-after')).toBe('2');
        expect(res.body.error.code).toBe('TooManyRequests');
        expect(res.body.error.message).toBe('Please retry again later.');
        // Honour Retry-After on the emulator clock before the next request.
        clockOffsetMs += 2000;
      } else {
        expect(res.status).toBe(200);
      }
    }
    const rate = throttled / 500;
    expect(rate).toBeGreaterThan(0.15);
    expect(rate).toBeLessThan(0.25);
    const stats = await emulator.stats();
    expect(stats.faults.throttled).toBe(throttled);
    expect(stats.byStatus['429']).toBe(throttled);
  });

  it('a client that retries before Retry-After has passed is throttled again', async () => {
    await emulator.setFaults({ throttleRate: 1, retryAfterSeconds: 5 });
    const first = await graph('GET', '/v1.0/users?$top=1');
    expect(first.status).toBe(429);
    // The dice are off now: only the open Retry-After window can throttle.
    await emulator.setFaults({ throttleRate: 0 });
    clockOffsetMs += 2000;
    const tooEarly = await graph('GET', '/v1.0/users?$top=1');
    expect(tooEarly.status).toBe(429);
    expect(tooEarly.headers.get('retry-after')).toBe('3');
    const otherApp = await mintToken(emulator, { appid: '44444444-5555-4666-8777-888888888888' });
    expect((await graph('GET', '/v1.0/users?$top=1', { token: otherApp })).status).toBe(200);
    clockOffsetMs += 3001;
    expect((await graph('GET', '/v1.0/users?$top=1')).status).toBe(200);
  });

  it('503 with Retry-After, 504, and dropped connections', async () => {
    await emulator.setFaults({ unavailableRate: 1, retryAfterSeconds: 3 });
    const unavailable = await graph('GET', '/v1.0/users?$top=1');
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('3');
    expect(unavailable.body.error.code).toBe('serviceNotAvailable');
    await emulator.setFaults({ unavailableRate: 0, timeoutRate: 1 });
    expect((await graph('GET', '/v1.0/users?$top=1')).status).toBe(504);
    await emulator.setFaults({ timeoutRate: 0, dropRate: 1 });
    await expect(graph('GET', '/v1.0/users?$top=1')).rejects.toThrow();
    const stats = await emulator.stats();
    expect(stats.faults).toMatchObject({ unavailable: 1, timeouts: 1, dropped: 1 });
  });

  it('$batch items roll their own dice; latency is added once per HTTP request', async () => {
    await emulator.setFaults({ unavailableRate: 0.5, seed: 42, latencyMs: 150 });
    const requests = Array.from({ length: 20 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users?$top=1&$select=id' }));
    const started = Date.now();
    const res = await graph('POST', '/v1.0/$batch', { body: { requests } });
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    const statuses = (res.body.responses as Array<{ status: number; headers: Record<string, string> }>).map((r) => r.status);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(2);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(2);
    const failed = (res.body.responses as Array<{ status: number; headers: Record<string, string> }>).find((r) => r.status === 503)!;
    expect(failed.headers['Retry-After']).toBe('1');
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(150 * 5);
    const stats = await emulator.stats();
    expect(stats.batch.items).toBe(20);
    expect(stats.faults.unavailable).toBe(statuses.filter((s) => s === 503).length);
  });

  it('the same seed gives the same sequence of faults', async () => {
    const run = async () => {
      await emulator.setFaults({ timeoutRate: 0.3, seed: 99 });
      const out: number[] = [];
      for (let i = 0; i < 30; i += 1) out.push((await graph('GET', '/v1.0/users?$top=1&$select=id')).status);
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a).toContain(504);
  });
});

describe('targeted fault rules (POST /_emulator/faults/rules)', () => {
  it('are off by default, refuse malformed rules with 400 naming the field, and are cleared by reset', async () => {
    expect(await (await emulator.fetch('/_emulator/faults/rules')).json()).toEqual({ rules: [] });
    const post = (body: unknown) => emulator.fetch('/_emulator/faults/rules', { method: 'POST', body: JSON.stringify(body) });
    for (const [body, words] of [
      [{ rules: [{ path: 'users/x/memberOf', answer: 403 }] }, /'path'/],
      [{ rules: [{ path: '/users/x/memberOf?$top=1', answer: 403 }] }, /'path'/],
      [{ rules: [{ path: '/users/x/memberOf', answer: 418 }] }, /'answer'.*418/],
      [{ rules: [{ path: '/users/x/memberOf', answer: 403, times: 0 }] }, /'times'/],
      [{ rules: [{ path: '/users/x/memberOf', answer: 403, status: 403 }] }, /unknown field 'status'/],
      [[], /rules/],
    ] as const) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(words);
    }
    expect((await post({ rules: [{ path: '/users/x/memberOf', answer: 403 }] })).status).toBe(200);
    emulator.context.faults.reset();
    expect(await (await emulator.fetch('/_emulator/faults/rules')).json()).toEqual({ rules: [] });
  });

  it("answer one user's request and its $batch item with Graph's error shapes, and leave the neighbours alone", async () => {
    const [victim, neighbour] = [...emulator.tenant.users.values()];
    await emulator.setFaultRules([
      { path: `/users/${victim!.id}/memberOf`, answer: 403 },
      { path: `/users/${victim!.id}/ownedDevices`, answer: 'malformed', times: 1 },
    ]);
    const refused = await graph('GET', `/v1.0/users/${victim!.id.toUpperCase()}/memberOf?$select=id`);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('Authorization_RequestDenied');
    expect(refused.headers.get('request-id')).toBe(refused.body.error.innerError['request-id']);
    expect((await graph('GET', `/v1.0/users/${neighbour!.id}/memberOf?$select=id`)).status).toBe(200);

    const batch = await graph('POST', '/v1.0/$batch', {
      body: {
        requests: [
          { id: 'a', method: 'GET', url: `/users/${victim!.id}/memberOf` },
          { id: 'b', method: 'GET', url: `/users/${neighbour!.id}/memberOf` },
          { id: 'c', method: 'GET', url: `/users/${victim!.id}/ownedDevices` },
        ],
      },
    });
    const byId = new Map((batch.body.responses as Array<{ id: string; status: number; body: any }>).map((r) => [r.id, r]));
    expect(byId.get('a')!.status).toBe(403);
    expect(byId.get('b')!.status).toBe(200);
    // 'malformed': a 200 whose body is no collection, answered once (times: 1), then the real page.
    expect(byId.get('c')!.status).toBe(200);
    expect(Array.isArray(byId.get('c')!.body.value)).toBe(false);
    const healed = await graph('GET', `/v1.0/users/${victim!.id}/ownedDevices`);
    expect(Array.isArray(healed.body.value)).toBe(true);
  });
});
