import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coalescer, type CoalescedDispatch } from '../../src/graph/coalescer.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { appCallerToken } from '../identity/support.js';

/** A hand-cranked timer: tests decide when a window ends, so nothing depends on the clock. */
function manualTimers() {
  const timers: Array<{ run: () => void; delayMs: number; cancelled: boolean; fired: boolean }> = [];
  return {
    timers,
    schedule: (run: () => void, delayMs: number) => {
      const t = { run, delayMs, cancelled: false, fired: false };
      timers.push(t);
      return { cancel: () => void (t.cancelled = true) };
    },
    fireAll: () => {
      for (const t of timers)
        if (!t.cancelled && !t.fired) {
          t.fired = true;
          t.run();
        }
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

function recordingDispatch(answer: (identity: string, key: string) => string | Error = (i, k) => `${i}:${k}`) {
  const calls: Array<{ identity: string; keys: string[] }> = [];
  const dispatch: CoalescedDispatch<string, string> = async (identity, keys) => {
    calls.push({ identity, keys: [...keys] });
    return keys.map((k) => answer(identity, k));
  };
  return { calls, dispatch };
}

describe('Coalescer', () => {
  it('sends lookups of one identity arriving within the window as one dispatch, each caller getting its own answer', async () => {
    const t = manualTimers();
    const { calls, dispatch } = recordingDispatch();
    const c = new Coalescer<string, string>({ windowMs: 2, maxBatchSize: 1000, dispatch, schedule: t.schedule });
    const results = Promise.all(['a', 'b', 'c'].map((k) => c.load('app', k)));
    expect(calls).toHaveLength(0);
    expect(c.pendingCount()).toBe(3);
    t.fireAll();
    expect(await results).toEqual(['app:a', 'app:b', 'app:c']);
    expect(calls).toEqual([{ identity: 'app', keys: ['a', 'b', 'c'] }]);
  });

  it('sends a lone lookup on the next macrotask, without waiting the window, when no other lookup is in flight', async () => {
    const t = manualTimers();
    const { calls, dispatch } = recordingDispatch();
    const c = new Coalescer<string, string>({ windowMs: 2, maxBatchSize: 1000, dispatch, schedule: t.schedule });
    const result = c.load('app', 'solo');
    expect(t.timers.map((x) => x.delayMs)).toEqual([0]);
    t.fireAll();
    expect(await result).toBe('app:solo');
    expect(calls).toHaveLength(1);
    // Still no company: the next lone lookup does not wait either.
    const again = c.load('app', 'solo-again');
    expect(t.timers.map((x) => x.delayMs)).toEqual([0, 0]);
    t.fireAll();
    expect(await again).toBe('app:solo-again');
  });

  it('waits the window while a dispatch of the same identity is out, and lookups arriving meanwhile share one dispatch', async () => {
    const t = manualTimers();
    const calls: string[][] = [];
    const answers: Array<() => void> = [];
    const dispatch: CoalescedDispatch<string, string> = (_identity, keys) => {
      calls.push([...keys]);
      return new Promise((resolve) => answers.push(() => resolve(keys.map((k) => `ok:${k}`))));
    };
    const c = new Coalescer<string, string>({ windowMs: 2, maxBatchSize: 1000, dispatch, schedule: t.schedule });
    const first = c.load('app', 'first');
    t.fireAll();
    expect(calls).toEqual([['first']]);
    // The first dispatch is still out: the next ones are concurrent, so they wait the window for company.
    const later = Promise.all(['b', 'c', 'd'].map((k) => c.load('app', k)));
    expect(t.timers.map((x) => x.delayMs)).toEqual([0, 2]);
    // Another identity has nothing in flight: its lone lookup does not wait.
    const other = c.load('obo:alice', 'x');
    expect(t.timers.map((x) => x.delayMs)).toEqual([0, 2, 0]);
    t.fireAll();
    expect(calls).toEqual([['first'], ['b', 'c', 'd'], ['x']]);
    answers.forEach((answer) => answer());
    expect(await first).toBe('ok:first');
    expect(await later).toEqual(['ok:b', 'ok:c', 'ok:d']);
    expect(await other).toBe('ok:x');
  });

  it('keeps waiting the window after a dispatch with company, and stops after a lone one', async () => {
    const t = manualTimers();
    const { calls, dispatch } = recordingDispatch();
    const c = new Coalescer<string, string>({ windowMs: 2, maxBatchSize: 1000, dispatch, schedule: t.schedule });
    const pair = Promise.all([c.load('app', 'a'), c.load('app', 'b')]);
    t.fireAll();
    await pair;
    // Lookups have been arriving together: the next batch waits for company although nothing is out.
    const next = c.load('app', 'c');
    expect(t.timers.at(-1)!.delayMs).toBe(2);
    t.fireAll();
    await next;
    // That batch went alone, so the one after it does not wait.
    const alone = c.load('app', 'd');
    expect(t.timers.at(-1)!.delayMs).toBe(0);
    t.fireAll();
    await alone;
    expect(calls.map((x) => x.keys)).toEqual([['a', 'b'], ['c'], ['d']]);
  });

  it('waits the window when its owner says other work is under way, even with nothing of the identity out', async () => {
    const t = manualTimers();
    const { dispatch } = recordingDispatch();
    let busy = true;
    const c = new Coalescer<string, string>({ windowMs: 2, maxBatchSize: 1000, dispatch, schedule: t.schedule, othersBusy: () => busy });
    const first = c.load('app', 'a');
    expect(t.timers.at(-1)!.delayMs).toBe(2);
    t.fireAll();
    await first;
    busy = false;
    const alone = c.load('app', 'b');
    expect(t.timers.at(-1)!.delayMs).toBe(0);
    t.fireAll();
    await alone;
  });

  it('with the real scheduler, a lone lookup is dispatched before its window would have ended', async () => {
    const order: string[] = [];
    const dispatch: CoalescedDispatch<string, string> = async (_identity, keys) => {
      order.push('dispatch');
      return keys.map((k) => k);
    };
    const c = new Coalescer<string, string>({ windowMs: 10, maxBatchSize: 1000, dispatch });
    const windowEnd = new Promise<void>((resolve) => setTimeout(() => resolve(void order.push('window ended')), 10));
    await c.load('app', 'solo');
    await windowEnd;
    expect(order).toEqual(['dispatch', 'window ended']);
  });

  it('sends a full batch at once, without waiting for the window', async () => {
    const t = manualTimers();
    const { calls, dispatch } = recordingDispatch();
    const c = new Coalescer<string, string>({ windowMs: 2, maxBatchSize: 10, dispatch, schedule: t.schedule });
    const keys = Array.from({ length: 25 }, (_, i) => `k${i}`);
    const results = Promise.all(keys.map((k) => c.load('app', k)));
    await flush();
    expect(calls.map((x) => x.keys.length)).toEqual([10, 10]);
    // The full batches' timers were cancelled, not left to fire an empty dispatch.
    expect(t.timers.filter((x) => x.cancelled)).toHaveLength(2);
    t.fireAll();
    expect(await results).toEqual(keys.map((k) => `app:${k}`));
    expect(calls.map((x) => x.keys.length)).toEqual([10, 10, 5]);
  });

  it('shares identical keys within an identity', async () => {
    const t = manualTimers();
    const { calls, dispatch } = recordingDispatch();
    const c = new Coalescer<string, string>({ windowMs: 2, maxBatchSize: 1000, dispatch, schedule: t.schedule });
    const results = Promise.all([c.load('app', 'x'), c.load('app', 'x'), c.load('app', 'y')]);
    t.fireAll();
    expect(await results).toEqual(['app:x', 'app:x', 'app:y']);
    expect(calls).toEqual([{ identity: 'app', keys: ['x', 'y'] }]);
  });

  it('never lets a caller receive another identity’s data, whatever the interleaving (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ identity: fc.constantFrom<string>('app', 'obo:alice', 'obo:bob'), key: fc.constantFrom<string>('u1', 'u2', 'u3', 'u4') }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 8 }),
        async (lookups, maxBatchSize) => {
          const t = manualTimers();
          const { calls, dispatch } = recordingDispatch();
          const c = new Coalescer<string, string>({ windowMs: 2, maxBatchSize, dispatch, schedule: t.schedule });
          const results = Promise.all(lookups.map((l) => c.load(l.identity, l.key)));
          t.fireAll();
          const answers = await results;
          answers.forEach((answer, i) => expect(answer).toBe(`${lookups[i]!.identity}:${lookups[i]!.key}`));
          for (const call of calls) {
            const ownKeys = new Set(lookups.filter((l) => l.identity === call.identity).map((l) => l.key));
            for (const key of call.keys) expect(ownKeys.has(key)).toBe(true);
            expect(call.keys.length).toBeLessThanOrEqual(maxBatchSize);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects only the caller whose key failed', async () => {
    const t = manualTimers();
    const { dispatch } = recordingDispatch((i, k) => (k === 'bad' ? new Error(`no user ${k}`) : `${i}:${k}`));
    const c = new Coalescer<string, string>({ windowMs: 2, maxBatchSize: 1000, dispatch, schedule: t.schedule });
    const good = c.load('app', 'good');
    const bad = c.load('app', 'bad');
    t.fireAll();
    await expect(good).resolves.toBe('app:good');
    await expect(bad).rejects.toThrow('no user bad');
  });

  it('retries a failed multi-key dispatch key by key, so the failure lands on the key that caused it', async () => {
    const t = manualTimers();
    const calls: string[][] = [];
    const dispatch: CoalescedDispatch<string, string> = async (_identity, keys) => {
      calls.push([...keys]);
      if (keys.includes('malformed')) throw new Error('HTTP 400 Request_BadRequest');
      return keys.map((k) => `ok:${k}`);
    };
    const c = new Coalescer<string, string>({ windowMs: 2, maxBatchSize: 1000, dispatch, schedule: t.schedule });
    const a = c.load('app', 'a');
    const m = c.load('app', 'malformed');
    const b = c.load('app', 'b');
    t.fireAll();
    await expect(a).resolves.toBe('ok:a');
    await expect(b).resolves.toBe('ok:b');
    await expect(m).rejects.toThrow('HTTP 400');
    expect(calls).toEqual([['a', 'malformed', 'b'], ['a'], ['malformed'], ['b']]);
  });

  it('rejects everyone with a clear error when the dispatch answers the wrong number of results', async () => {
    const t = manualTimers();
    const c = new Coalescer<string, string>({ windowMs: 0, maxBatchSize: 1000, dispatch: async () => ['only one'], schedule: t.schedule });
    const a = c.load('app', 'a');
    t.fireAll();
    await expect(a).resolves.toBe('only one');
    const t2 = manualTimers();
    const c2 = new Coalescer<string, string>({ windowMs: 0, maxBatchSize: 1000, dispatch: async () => [], schedule: t2.schedule });
    const x = c2.load('app', 'x');
    t2.fireAll();
    await expect(x).rejects.toThrow('answered 0 results for 1 keys');
  });

  it('validates its options and the identity with messages that say what was received', async () => {
    const dispatch = recordingDispatch().dispatch;
    expect(() => new Coalescer({ windowMs: 50, maxBatchSize: 10, dispatch })).toThrow(/0 to 10 ms.*received 50/);
    expect(() => new Coalescer({ windowMs: -1, maxBatchSize: 10, dispatch })).toThrow(/received -1/);
    expect(() => new Coalescer({ windowMs: 2, maxBatchSize: 0, dispatch })).toThrow(/maxBatchSize .*received 0/);
    const c = new Coalescer<string, string>({ windowMs: 2, maxBatchSize: 10, dispatch });
    await expect(c.load('', 'x')).rejects.toThrow(/Graph identity/);
  });
});

describe('Coalescer against the emulator (getByIds)', () => {
  let emulator: TestEmulator;
  let token: string;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    const { wellKnown } = emulator.tenant;
    token = await appCallerToken(emulator, wellKnown.demoAppId, wellKnown.demoAppSecret, 'https://graph.microsoft.com/.default');
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('folds 64 concurrent single lookups into at most 0.2 upstream requests per lookup, each caller getting its own user', async () => {
    const dispatch: CoalescedDispatch<string, { id: string } | null> = async (_identity, ids) => {
      const res = await emulator.fetch('/v1.0/directoryObjects/getByIds?$select=id,displayName', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ids, types: ['user'] }),
      });
      if (!res.ok) throw new Error(`getByIds answered HTTP ${res.status}`);
      const byId = new Map(((await res.json()) as { value: Array<{ id: string }> }).value.map((u) => [u.id, u]));
      return ids.map((id) => byId.get(id) ?? null);
    };
    const coalescer = new Coalescer({ windowMs: 2, maxBatchSize: 1000, dispatch });
    const ids = [...emulator.tenant.users.keys()].slice(0, 64);
    const before = await emulator.stats();
    const users = await Promise.all(ids.map((id) => coalescer.load('app', id)));
    const after = await emulator.stats();
    users.forEach((u, i) => expect(u?.id).toBe(ids[i]));
    const requests = after.graphRequests - before.graphRequests;
    expect(requests).toBeGreaterThanOrEqual(1);
    expect(requests / ids.length).toBeLessThanOrEqual(0.2);
  });
});
