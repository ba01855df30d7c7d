/**
 * docs/graph-facts.md#throttling: the shape of a throttled answer, alone and inside `$batch`
 * (learn.microsoft.com/graph/throttling; learn.microsoft.com/graph/throttling-limits).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { throttlingSettingsFromEnv } from '../../../src/emulator/throttling.js';
import { mapGraphError } from '../../../src/graph/errors.js';
import { USER_ADMIN_APP_ID, registerApp } from '../graph/graph-client.js';
import { type Conformance, graphErrorCode, mintToken, startConformance } from './support.js';

let c: Conformance;
let clockOffsetMs = 0;
beforeAll(async () => {
  c = await startConformance(['User Administrator'], { userCount: 50, now: () => Date.now() + clockOffsetMs });
});
afterAll(async () => c.close());
beforeEach(async () => {
  clockOffsetMs = 0;
  c.emulator.context.faults.reset();
  await c.emulator.setFaults({ throttleRate: 0, unavailableRate: 0 });
  await setBudget({ resourceUnitsPer10s: null, writesPer150s: null });
});

/** POST /_emulator/throttling (every bucket starts full again). */
async function setBudget(settings: Record<string, number | null>): Promise<void> {
  const res = await c.emulator.fetch('/_emulator/throttling', {
    method: 'POST',
    body: JSON.stringify(settings),
    headers: { 'content-type': 'application/json' },
  });
  if (!res.ok) throw new Error(`throttling refused: ${await res.text()}`);
}

describe('429 (learn.microsoft.com/graph/throttling)', () => {
  it('is TooManyRequests with Retry-After, innerError code "429", x-ms-throttle-scope and x-ms-throttle-information', async () => {
    await c.emulator.setFaults({ throttleRate: 1, retryAfterSeconds: 7 });
    const res = await c.graph('GET', '/v1.0/users?$top=1&$select=id');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(graphErrorCode(res)).toBe('TooManyRequests');
    expect(res.body.error.message).toBe('Please retry again later.');
    expect(res.body.error.innerError.code).toBe('429');
    expect(res.body.error.innerError['request-id']).toBe(res.headers.get('request-id'));
    // <Scope>/<Limit>/<ApplicationId>/<TenantId> (throttling-limits).
    expect(res.headers.get('x-ms-throttle-scope')).toBe(`Tenant_Application/ReadWrite/${USER_ADMIN_APP_ID}/${c.emulator.tenantId}`);
    expect(res.headers.get('x-ms-throttle-information')).toBe('ResourceUnitLimitExceeded');
    // The gateway reads it as THROTTLED with Graph's own wait.
    const mapped = mapGraphError({ status: 429, body: res.body, requestId: res.headers.get('request-id') ?? undefined, retryAfterSeconds: 7 });
    expect(mapped.extensions).toMatchObject({ code: 'THROTTLED', retryAfterSeconds: 7, graphErrorCode: 'TooManyRequests' });
  });

  it('a retry before Retry-After has passed is throttled again; after it, served', async () => {
    await c.emulator.setFaults({ throttleRate: 1, retryAfterSeconds: 4 });
    expect((await c.graph('GET', '/v1.0/users?$top=1&$select=id')).status).toBe(429);
    await c.emulator.setFaults({ throttleRate: 0 });
    clockOffsetMs += 1000;
    const early = await c.graph('GET', '/v1.0/users?$top=1&$select=id');
    expect(early.status).toBe(429);
    expect(Number(early.headers.get('retry-after'))).toBeLessThanOrEqual(3);
    clockOffsetMs += 3001;
    expect((await c.graph('GET', '/v1.0/users?$top=1&$select=id')).status).toBe(200);
  });

  it('inside $batch, each throttled item is a 429 with its own Retry-After while the envelope is 200 (throttling, "Throttling and batching")', async () => {
    await c.emulator.setFaults({ throttleRate: 0.5, retryAfterSeconds: 2, seed: 7 });
    const requests = Array.from({ length: 20 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: '/users?$top=1&$select=id' }));
    // The envelope rolls the same dice as its items; past its Retry-After, send it again until it is served.
    let res = await c.graph('POST', '/v1.0/$batch', { body: { requests } });
    for (let attempt = 0; res.status === 429 && attempt < 10; attempt += 1) {
      clockOffsetMs += 2001;
      res = await c.graph('POST', '/v1.0/$batch', { body: { requests } });
    }
    expect(res.status).toBe(200);
    const items = res.body.responses as Array<{ id: string; status: number; headers: Record<string, string>; body: { error?: { code: string } } }>;
    expect(items.map((i) => i.id).sort()).toEqual(requests.map((r) => r.id).sort());
    const throttled = items.filter((i) => i.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    for (const item of throttled) {
      expect(item.headers['Retry-After']).toBe('2');
      expect(item.body.error?.code).toBe('TooManyRequests');
    }
  });
});

describe('the app+tenant directory budget (throttling-limits, "Identity and access service limits")', () => {
  const someone = () => c.users[5]!.id;

  it('prices requests by the documented table and says so in x-ms-resource-unit (counted even when no budget is enforced)', async () => {
    await c.emulator.resetStats();
    const cost = async (method: string, path: string, body?: unknown) => {
      const res = await c.graph(method, path, body === undefined ? {} : { body });
      expect(res.status, `${method} ${path}: ${res.text.slice(0, 200)}`).toBeLessThan(300);
      return Number(res.headers.get('x-ms-resource-unit'));
    };
    expect(await cost('GET', '/v1.0/users')).toBe(2);
    expect(await cost('GET', '/v1.0/users?$select=id')).toBe(1);
    expect(await cost('GET', '/v1.0/users?$select=id&$top=5')).toBe(1);
    expect(await cost('GET', '/v1.0/users?$top=5')).toBe(1);
    expect(await cost('GET', `/v1.0/users/${someone()}`)).toBe(1);
    expect(await cost('GET', `/v1.0/users/${someone()}?$expand=manager`)).toBe(2);
    expect(await cost('GET', `/v1.0/users/${someone()}/memberOf`)).toBe(2);
    expect(await cost('GET', `/v1.0/users/${someone()}/memberOf?$select=id`)).toBe(1);
    // getByIds: 5, and 2 with $select (the note under the table).
    expect(await cost('POST', '/v1.0/directoryObjects/getByIds', { ids: [someone()] })).toBe(5);
    expect(await cost('POST', '/v1.0/directoryObjects/getByIds?$select=id', { ids: [someone()] })).toBe(2);
    expect(await cost('PATCH', `/v1.0/users/${someone()}`, { jobTitle: 'Priced' })).toBe(1);
    const directory = (await c.emulator.stats()).directory;
    expect(directory).toEqual({ priced: 11, resourceUnits: 2 + 1 + 1 + 1 + 1 + 2 + 2 + 1 + 5 + 2 + 1, writes: 1, throttled: 0 });
  });

  it('answers 429 with Retry-After, x-ms-throttle-scope and x-ms-throttle-information once the RU budget is spent, holds the app+tenant until Retry-After, then serves again', async () => {
    await setBudget({ resourceUnitsPer10s: 10 });
    // GET /users costs 2: five fit in a bucket of 10.
    for (let i = 0; i < 5; i++) expect((await c.graph('GET', '/v1.0/users')).status).toBe(200);
    const over = await c.graph('GET', '/v1.0/users');
    expect(over.status).toBe(429);
    expect(graphErrorCode(over)).toBe('TooManyRequests');
    expect(over.body.error.innerError.code).toBe('429');
    // 2 RU at 1 RU per second.
    expect(over.headers.get('retry-after')).toBe('2');
    expect(over.headers.get('x-ms-throttle-scope')).toBe(`Tenant_Application/ReadWrite/${USER_ADMIN_APP_ID}/${c.emulator.tenantId}`);
    expect(over.headers.get('x-ms-throttle-information')).toBe('ResourceUnitLimitExceeded');
    // Before Retry-After, even a call the refilled bucket could pay for is refused (and not charged).
    clockOffsetMs += 1_500;
    const early = await c.graph('GET', '/v1.0/users?$select=id');
    expect(early.status).toBe(429);
    expect(early.headers.get('retry-after')).toBe('1');
    clockOffsetMs += 600;
    const after = await c.graph('GET', '/v1.0/users');
    expect(after.status).toBe(200);
    expect(after.headers.get('x-ms-resource-unit')).toBe('2');
    // The bucket is nearly empty: Graph says how much of the limit is in use.
    expect(Number(after.headers.get('x-ms-throttle-limit-percentage'))).toBeGreaterThanOrEqual(0.8);
  });

  it('is per app: another app of the same tenant has its own bucket', async () => {
    await setBudget({ resourceUnitsPer10s: 4 });
    for (let i = 0; i < 2; i++) expect((await c.graph('GET', '/v1.0/users')).status).toBe(200);
    expect((await c.graph('GET', '/v1.0/users')).status).toBe(429);
    const otherApp = '33333333-4444-4555-8666-777777777777';
    registerApp(c.emulator, otherApp, ['User Administrator']);
    const token = await mintToken(c.emulator, { appid: otherApp });
    expect((await c.graph('GET', '/v1.0/users', { token })).status).toBe(200);
  });

  it('charges each $batch item on its own: the items over the budget are 429 with their own Retry-After inside a 200 envelope', async () => {
    await setBudget({ resourceUnitsPer10s: 5 });
    const requests = Array.from({ length: 8 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: `/users/${c.users[i]!.id}?$select=id` }));
    const res = await c.graph('POST', '/v1.0/$batch', { body: { requests } });
    expect(res.status).toBe(200);
    const items = res.body.responses as Array<{ id: string; status: number; headers: Record<string, string> }>;
    expect(items.filter((i) => i.status === 200)).toHaveLength(5);
    const throttled = items.filter((i) => i.status === 429);
    expect(throttled).toHaveLength(3);
    for (const item of throttled) expect(Number(item.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    const directory = (await c.emulator.stats()).directory;
    expect(directory.throttled).toBeGreaterThanOrEqual(3);
  });

  it('enforces the write budget separately: WriteLimitExceeded in the Write scope', async () => {
    await setBudget({ writesPer150s: 2 });
    for (let i = 0; i < 2; i++) expect((await c.graph('PATCH', `/v1.0/users/${someone()}`, { body: { jobTitle: `w${i}` } })).status).toBe(204);
    const over = await c.graph('PATCH', `/v1.0/users/${someone()}`, { body: { jobTitle: 'w3' } });
    expect(over.status).toBe(429);
    expect(over.headers.get('x-ms-throttle-information')).toBe('WriteLimitExceeded');
    expect(over.headers.get('x-ms-throttle-scope')).toBe(`Tenant_Application/Write/${USER_ADMIN_APP_ID}/${c.emulator.tenantId}`);
    // 1 write at 2 per 150 s: 75 s.
    expect(over.headers.get('retry-after')).toBe('75');
  });

  it('refuses invalid budget settings with a clear message, and reads them from EMULATOR_RU_PER_10S', async () => {
    const res = await c.emulator.fetch('/_emulator/throttling', {
      method: 'POST',
      body: JSON.stringify({ resourceUnitsPer10s: -3 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/resourceUnitsPer10s/);
    expect(throttlingSettingsFromEnv({ EMULATOR_RU_PER_10S: '3500', EMULATOR_WRITES_PER_150S: 'off' })).toEqual({
      resourceUnitsPer10s: 3500,
      writesPer150s: null,
    });
    expect(() => throttlingSettingsFromEnv({ EMULATOR_RU_PER_10S: 'lots' })).toThrow(/EMULATOR_RU_PER_10S/);
  });
});
