/**
 * docs/graph-facts.md#throttling: the shape of a throttled answer, alone and inside `$batch`
 * (learn.microsoft.com/graph/throttling; learn.microsoft.com/graph/throttling-limits).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mapGraphError } from '../../../src/graph/errors.js';
import { USER_ADMIN_APP_ID } from '../graph/graph-client.js';
import { type Conformance, graphErrorCode, startConformance } from './support.js';

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
});

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
