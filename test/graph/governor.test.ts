import { describe, expect, it } from 'vitest';
import { createGraphGovernorRegistry } from '../../src/graph/governor-registry.js';
import { batchResourceUnitCost, resourceUnitCost } from '../../src/graph/graph-cost.js';
import { createLocalRateLimiter } from '../../src/graph/rate-limiter.js';

/** A manual clock: timers fire only when the test advances time. */
function manualClock() {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let nextId = 1;
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimer: (id: unknown) => {
      timers = timers.filter((t) => t.id !== id);
    },
    async advance(ms: number) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('resource unit costs (docs/graph-facts.md#throttling)', () => {
  it('prices calls as Graph documents', () => {
    expect(resourceUnitCost({ method: 'GET', template: '/users' })).toEqual({ resourceUnits: 2, writes: 0 });
    expect(resourceUnitCost({ method: 'GET', template: '/users', query: { $select: 'id' } }).resourceUnits).toBe(1);
    expect(resourceUnitCost({ method: 'GET', template: '/users', query: { $select: 'id', $expand: 'manager' } }).resourceUnits).toBe(2);
    expect(resourceUnitCost({ method: 'GET', template: '/users/{id}', query: { $select: 'id', $top: '5' } }).resourceUnits).toBe(1);
    expect(resourceUnitCost({ method: 'POST', template: '/directoryObjects/getByIds' }).resourceUnits).toBe(5);
    expect(resourceUnitCost({ method: 'POST', template: '/directoryObjects/getByIds', query: { $select: 'id' } })).toEqual({ resourceUnits: 2, writes: 0 });
    expect(resourceUnitCost({ method: 'GET', template: '/groups/{id}/members' }).resourceUnits).toBe(3);
    expect(resourceUnitCost({ method: 'GET', template: '/groups/{id}/transitiveMembers' }).resourceUnits).toBe(5);
    expect(resourceUnitCost({ method: 'PATCH', template: '/users/{id}' })).toEqual({ resourceUnits: 1, writes: 1 });
    expect(resourceUnitCost({ method: 'POST', template: '/users/{id}/revokeSignInSessions' })).toEqual({ resourceUnits: 1, writes: 1 });
    expect(
      batchResourceUnitCost([
        { method: 'GET', template: '/users/{id}/manager' },
        { method: 'PATCH', template: '/users/{id}' },
        { method: 'GET', template: '/users' },
      ]),
    ).toEqual({ resourceUnits: 4, writes: 1 });
  });

  it("applies the table's me/ rows to users/{id}/ and prices read-only actions without a write", () => {
    expect(resourceUnitCost({ method: 'GET', template: '/users/{id}/memberOf' }).resourceUnits).toBe(2);
    expect(resourceUnitCost({ method: 'GET', template: '/me/transitiveMemberOf', query: { $select: 'id' } }).resourceUnits).toBe(1);
    expect(resourceUnitCost({ method: 'POST', template: '/users/{id}/checkMemberGroups' })).toEqual({ resourceUnits: 4, writes: 0 });
    expect(resourceUnitCost({ method: 'POST', template: '/me/getMemberObjects' })).toEqual({ resourceUnits: 2, writes: 0 });
    expect(resourceUnitCost({ method: 'GET', template: '/subscribedSkus' }).resourceUnits).toBe(3);
  });

  it('prices $batch items by the route of their relative URL, ids and UPN keys reduced to {id}', async () => {
    const { templateOfRelativeUrl } = await import('../../src/graph/graph-cost.js');
    expect(templateOfRelativeUrl('/users/0b1c/memberOf')).toBe('/users/{id}/memberOf');
    expect(templateOfRelativeUrl("/users('a@x.example')/manager")).toBe('/users/{id}/manager');
    expect(templateOfRelativeUrl('/users/delta')).toBe('/users/delta');
    expect(templateOfRelativeUrl('/directoryObjects/getByIds')).toBe('/directoryObjects/getByIds');
    expect(templateOfRelativeUrl('/users/0b1c/authentication/methods/m1')).toBe('/users/{id}/authentication/methods/{id}');
  });
});

describe('governor', () => {
  it('lets calls through while the bucket has room, then queues them until it refills', async () => {
    const clock = manualClock();
    const governor = createLocalRateLimiter({ resourceUnitsPer10s: 100, headroom: 1, maxWaitMs: 60_000, ...clock });
    for (let i = 0; i < 10; i++) (await governor.acquire(10)).release();
    expect(governor.snapshot().resourceUnits).toBe(0);
    let granted = false;
    const pending = governor.acquire(10).then((permit) => {
      granted = true;
      return permit;
    });
    await clock.advance(500);
    expect(granted).toBe(false);
    await clock.advance(600); // 100 RU / 10 s refills 10 RU in 1 s
    expect(granted).toBe(true);
    (await pending).release();
  });

  it('bounds concurrency and hands freed slots on in order', async () => {
    const clock = manualClock();
    const governor = createLocalRateLimiter({ maxConcurrent: 2, ...clock });
    const a = await governor.acquire(1);
    const b = await governor.acquire(1);
    const order: string[] = [];
    const c = governor.acquire(1).then((p) => (order.push('c'), p));
    const d = governor.acquire(1).then((p) => (order.push('d'), p));
    await clock.advance(0);
    expect(governor.snapshot()).toMatchObject({ inFlight: 2, queued: 2 });
    a.release();
    a.release(); // idempotent
    await clock.advance(0);
    expect(order).toEqual(['c']);
    b.release();
    await clock.advance(0);
    expect(order).toEqual(['c', 'd']);
    (await c).release();
    (await d).release();
    expect(governor.snapshot().inFlight).toBe(0);
  });

  it('counts writes against their own 150 s window', async () => {
    const clock = manualClock();
    const governor = createLocalRateLimiter({ writesPer150s: 2, headroom: 1, maxWaitMs: 1_000, ...clock });
    (await governor.acquire(1, { write: true })).release();
    (await governor.acquire(1, { write: true })).release();
    // The next write would wait 75 s for a token: more than maxWaitMs, so THROTTLED right away.
    await expect(governor.acquire(1, { write: true })).rejects.toMatchObject({ extensions: { code: 'THROTTLED', retryAfterSeconds: 75 } });
    // Reads are not held back by the write budget.
    (await governor.acquire(1)).release();
  });

  it('answers THROTTLED with a retry hint instead of hanging when the wait would be too long', async () => {
    const clock = manualClock();
    const governor = createLocalRateLimiter({ resourceUnitsPer10s: 10, headroom: 1, maxWaitMs: 2_000, ...clock });
    (await governor.acquire(10)).release();
    await expect(governor.acquire(5)).rejects.toMatchObject({ extensions: { code: 'THROTTLED', retryAfterSeconds: 5 } });
  });

  it('pauses every call after Graph says Retry-After, and rejects queued calls when the pause is too long', async () => {
    const clock = manualClock();
    const governor = createLocalRateLimiter({ maxWaitMs: 5_000, ...clock });
    governor.pause(2);
    let granted = false;
    const pending = governor.acquire(1).then((p) => ((granted = true), p));
    await clock.advance(1_500);
    expect(granted).toBe(false);
    await clock.advance(600);
    expect(granted).toBe(true);
    (await pending).release();

    const queued = governor.acquire(1);
    governor.pause(1);
    governor.pause(30);
    await expect(queued).resolves.toBeDefined(); // granted before the pauses
    const late = governor.acquire(1);
    await expect(late).rejects.toMatchObject({ extensions: { code: 'THROTTLED' } });
  });

  it('serves a write before the reads queued ahead of it, and does not refuse it for their wait (docs/reliability.md#rate-governor)', async () => {
    const clock = manualClock();
    // 10 RU per 10 s: one RU a second. The bucket is spent, then four 1-RU reads queue (4 s of refill).
    const governor = createLocalRateLimiter({ resourceUnitsPer10s: 10, headroom: 1, maxWaitMs: 4_500, ...clock });
    (await governor.acquire(10)).release();
    const order: string[] = [];
    const reads = Array.from({ length: 4 }, (_, i) => governor.acquire(1).then((p) => (order.push(`read ${i}`), p)));
    // A read now would wait 5 s behind the four: refused; a write (2 RU, a containment $batch) waits for its own 2 RU only.
    await expect(governor.acquire(1)).rejects.toMatchObject({ extensions: { code: 'THROTTLED' } });
    const write = governor.acquire(2, { writes: 2 }).then((p) => (order.push('write'), p));
    await clock.advance(2_000);
    expect(order).toEqual(['write']);
    for (let second = 0; second < 4; second++) await clock.advance(1_000);
    expect(order).toEqual(['write', 'read 0', 'read 1', 'read 2', 'read 3']);
    for (const permit of await Promise.all([write, ...reads])) permit.release();
  });

  it('lets reads past a write that waits for its write bucket, keeping the RU it needs', async () => {
    const clock = manualClock();
    const governor = createLocalRateLimiter({ resourceUnitsPer10s: 100, writesPer150s: 1, headroom: 1, maxWaitMs: 200_000, ...clock });
    (await governor.acquire(1, { writes: 1 })).release(); // the only write token: the next one refills in 150 s
    const order: string[] = [];
    const write = governor.acquire(50, { writes: 1 }).then((p) => (order.push('write'), p));
    const fits = governor.acquire(40).then((p) => (order.push('read 40'), p));
    const tooBig = governor.acquire(20).then((p) => (order.push('read 20'), p));
    await clock.advance(0);
    // 99 RU left: the 40-RU read fits beside the write's 50, the 20-RU one only once RU refill.
    expect(order).toEqual(['read 40']);
    await clock.advance(2_000);
    expect(order).toEqual(['read 40', 'read 20']);
    await clock.advance(150_000);
    expect(order).toEqual(['read 40', 'read 20', 'write']);
    for (const permit of await Promise.all([write, fits, tooBig])) permit.release();
  });

  it('hands a freed slot to a queued write before queued reads', async () => {
    const clock = manualClock();
    const governor = createLocalRateLimiter({ maxConcurrent: 1, ...clock });
    const held = await governor.acquire(1);
    const order: string[] = [];
    const read = governor.acquire(1).then((p) => (order.push('read'), p));
    const write = governor.acquire(1, { write: true }).then((p) => (order.push('write'), p));
    held.release();
    await clock.advance(0);
    expect(order).toEqual(['write']);
    (await write).release();
    await clock.advance(0);
    expect(order).toEqual(['write', 'read']);
    (await read).release();
  });

  it("shares the queue fairly between callers: one caller's backlog does not stand before another's call (docs/reliability.md#fair-share-between-callers)", async () => {
    const clock = manualClock();
    // One RU a second, the bucket spent: the hog queues 30 calls of 1 RU (30 s of refill).
    const governor = createLocalRateLimiter({ resourceUnitsPer10s: 10, headroom: 1, maxWaitMs: 60_000, ...clock });
    (await governor.acquire(10)).release();
    const order: string[] = [];
    const call = (label: string, caller: string) =>
      governor.acquire(1, { caller }).then((permit) => {
        order.push(label);
        permit.release();
      });
    const calls = Array.from({ length: 30 }, (_, i) => call(`hog ${i}`, 'api-key:hog'));
    // Its wait is reckoned behind the hog's first call only, not behind all 30.
    calls.push(call('victim', 'api-key:victim'));
    for (let second = 0; second < 3; second++) await clock.advance(1_000);
    expect(order).toEqual(['hog 0', 'victim', 'hog 1']);
    // A caller arriving later also goes ahead of the hog's backlog: its call is tagged at the virtual time.
    calls.push(call('late', 'api-key:late'));
    for (let second = 0; second < 2; second++) await clock.advance(1_000);
    expect(order).toEqual(['hog 0', 'victim', 'hog 1', 'late', 'hog 2']);
    // The hog's own calls keep their order.
    for (let second = 0; second < 30; second++) await clock.advance(1_000);
    await Promise.all(calls);
    expect(order.filter((o) => o.startsWith('hog'))).toEqual(Array.from({ length: 30 }, (_, i) => `hog ${i}`));
  });

  it('refuses the caller whose own backlog is too long (THROTTLED), not the newcomer who would wait behind it in arrival order', async () => {
    const clock = manualClock();
    // One RU a second and at most 5 s of wait: 5 queued calls of the hog are 5 s of refill.
    const governor = createLocalRateLimiter({ resourceUnitsPer10s: 10, headroom: 1, maxWaitMs: 5_000, ...clock });
    (await governor.acquire(10)).release();
    const hog = Array.from({ length: 5 }, () => governor.acquire(1, { caller: 'hog' }));
    await expect(governor.acquire(1, { caller: 'hog' })).rejects.toMatchObject({ extensions: { code: 'THROTTLED' } });
    let served = false;
    const newcomer = governor.acquire(1, { caller: 'newcomer' }).then((permit) => ((served = true), permit));
    await clock.advance(1_000);
    expect(served).toBe(false);
    await clock.advance(1_000);
    expect(served).toBe(true);
    for (let second = 0; second < 4; second++) await clock.advance(1_000);
    for (const permit of await Promise.all([...hog, newcomer])) permit.release();
  });

  it('keeps writes ahead of reads whatever the fair share, and shares writes fairly between callers too', async () => {
    const clock = manualClock();
    const governor = createLocalRateLimiter({ maxConcurrent: 1, ...clock });
    const held = await governor.acquire(1);
    const order: string[] = [];
    const permits = new Map<string, Promise<{ release(): void }>>();
    const queue = (label: string, options: { write?: boolean; caller: string }) =>
      permits.set(
        label,
        governor.acquire(1, options).then((p) => (order.push(label), p)),
      );
    queue('read a', { caller: 'a' });
    queue('write a0', { write: true, caller: 'a' });
    queue('write a1', { write: true, caller: 'a' });
    queue('write a2', { write: true, caller: 'a' });
    queue('write b', { write: true, caller: 'b' });
    // One slot: each call is let through when the one before it is released.
    held.release();
    for (let i = 0; i < 5; i++) {
      await clock.advance(0);
      (await permits.get(order[i]!)!).release();
    }
    expect(order).toEqual(['write a0', 'write b', 'write a1', 'write a2', 'read a']);
  });

  it('drops a queued call whose caller went away', async () => {
    const clock = manualClock();
    const governor = createLocalRateLimiter({ maxConcurrent: 1, ...clock });
    const held = await governor.acquire(1);
    const controller = new AbortController();
    const waiting = governor.acquire(1, { signal: controller.signal });
    controller.abort(new Error('caller disconnected'));
    await expect(waiting).rejects.toThrow('caller disconnected');
    expect(governor.snapshot().queued).toBe(0);
    held.release();
  });

  it('keeps one governor per tenant and validates its options', () => {
    const registry = createGraphGovernorRegistry({ maxConcurrent: 1 });
    expect(registry.forTenant('T1')).toBe(registry.forTenant('t1'));
    expect(registry.forTenant('t1')).not.toBe(registry.forTenant('t2'));
    registry.close();
    expect(() => createLocalRateLimiter({ maxConcurrent: 0 })).toThrow(/maxConcurrent must be a number >= 1, received 0/);
    expect(() => createLocalRateLimiter({ headroom: 2 })).toThrow(/headroom/);
  });

  it('close() rejects queued calls with UPSTREAM_UNAVAILABLE', async () => {
    const clock = manualClock();
    const governor = createLocalRateLimiter({ maxConcurrent: 1, ...clock });
    await governor.acquire(1);
    const waiting = governor.acquire(1);
    governor.close();
    await expect(waiting).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
  });
});

describe('costOfOutgoingCall', () => {
  it('prices a $batch envelope by its items and a plain call by its route', async () => {
    const { costOfOutgoingCall } = await import('../../src/graph/graph-cost.js');
    expect(
      costOfOutgoingCall({
        method: 'POST',
        template: '/$batch',
        body: {
          requests: [
            { id: '0', method: 'GET', url: '/users/0b1c/manager?$select=id,displayName' },
            { id: '1', method: 'GET', url: '/users?$select=id&$expand=manager' },
            { id: '2', method: 'PATCH', url: '/users/adele%40x.example' },
            { id: '3', method: 'POST', url: '/directoryObjects/getByIds?$select=id' },
          ],
        },
      }),
    ).toEqual({ resourceUnits: 1 + 2 + 1 + 2, writes: 1 });
    expect(costOfOutgoingCall({ method: 'GET', template: '/users', query: { $top: '999' } })).toEqual({ resourceUnits: 2, writes: 0 });
  });
});
