import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startApp } from '../../src/app.js';
import { hashApiKey } from '../../src/config.js';
import { createAuthenticationGuard, UNCOUNTED_REFUSAL_LOG_INTERVAL_MS } from '../../src/identity/authentication-failures.js';
import { createMetrics } from '../../src/metrics.js';
import { startTestEmulator } from '../support/emulator.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';

/**
 * Refusals that are not guesses write one line per reason and address per minute; how many were
 * not written (`notLogged`) was said only by the next line of the same reason and address after
 * the minute (docs/security.md#failed-authentication). A caller that stopped after its burst, an
 * entry pushed out of the bounded map by other addresses, or a shutdown lost that count: the log
 * showed one refusal where there had been many. Now the count gets a line of its own when the
 * window ends, when its entry is forgotten, and when the gateway closes.
 */
const NOT_LOGGED = 'caller authentication failures not logged';
const FAILED = 'caller authentication failed';

function guardWithLines() {
  const lines: string[] = [];
  const guard = createAuthenticationGuard({
    config: { callerAuth: { mode: 'api-key', keys: [] }, authFailures: { limit: 100, windowSeconds: 300 }, trustedProxies: [] },
    logger: capturingLogger(lines, 'info'),
    metrics: createMetrics({ defaultMetrics: false }),
  });
  const refuse = (clientAddress: string, times = 1) =>
    (async () => {
      for (let i = 0; i < times; i += 1) {
        await guard.recordFailure('not_operator', { clientAddress, correlationId: 'corr-quiet-0002', route: '/auth/login' }, { countsTowardsLimit: false });
      }
    })();
  const records = (msg: string) => logRecordsOf(lines).filter((r) => r.msg === msg);
  return { guard, refuse, records };
}

describe('the count of refusals not logged is always written', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('when the window ends and no refusal of its kind comes again', async () => {
    const { guard, refuse, records } = guardWithLines();
    await refuse('203.0.113.7', 5);
    expect(records(FAILED)).toHaveLength(1);
    vi.advanceTimersByTime(UNCOUNTED_REFUSAL_LOG_INTERVAL_MS - 1);
    expect(records(NOT_LOGGED)).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(records(NOT_LOGGED)).toEqual([expect.objectContaining({ level: 'warn', reason: 'not_operator', clientAddress: '203.0.113.7', notLogged: 4 })]);
    // Reported once: the next refusal opens a new window and carries no old count.
    await refuse('203.0.113.7');
    expect(records(FAILED).at(-1)).not.toHaveProperty('notLogged');
    expect(records(NOT_LOGGED)).toHaveLength(1);
    guard.close();
  });

  it('a window without refusals not logged writes nothing when it ends', async () => {
    const { guard, refuse, records } = guardWithLines();
    await refuse('203.0.113.9');
    vi.advanceTimersByTime(2 * UNCOUNTED_REFUSAL_LOG_INTERVAL_MS);
    expect(records(NOT_LOGGED)).toEqual([]);
    expect(records(FAILED)).toHaveLength(1);
    guard.close();
  });

  it('when its entry is forgotten to make room for other addresses', async () => {
    const { guard, refuse, records } = guardWithLines();
    await refuse('203.0.113.7', 3);
    // 10,000 other addresses (MAX_REMEMBERED_ADDRESSES) within the window push the first one out.
    for (let i = 0; i < 10_000; i += 1) await refuse(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(records(NOT_LOGGED)).toEqual([expect.objectContaining({ reason: 'not_operator', clientAddress: '203.0.113.7', notLogged: 2 })]);
    guard.close();
  });

  it('when the guard closes, and its timer is cleared', async () => {
    const { guard, refuse, records } = guardWithLines();
    await refuse('203.0.113.7', 3);
    await refuse('2001:db8::1', 2);
    expect(vi.getTimerCount()).toBe(1);
    guard.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(records(NOT_LOGGED).map((r) => [r.clientAddress, r.countedAs, r.notLogged])).toEqual([
      ['203.0.113.7', undefined, 2],
      // An IPv6 address counts as its /64: the line says both.
      ['2001:db8::1', '2001:db8::/64', 1],
    ]);
  });

  it('after the guard closed, every refusal writes its line and nothing is held for a timer', async () => {
    // A request the drain cut off may still be refused after close(): a count held then was
    // reported by a timer after the logger was flushed (or never, the process having exited).
    const { guard, refuse, records } = guardWithLines();
    guard.close();
    await refuse('203.0.113.7', 3);
    expect(records(FAILED)).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(2 * UNCOUNTED_REFUSAL_LOG_INTERVAL_MS);
    expect(records(NOT_LOGGED)).toEqual([]);
  });
});

describe('a gateway that stops', () => {
  it('writes the counts it still holds on close', async () => {
    const emulator = await startTestEmulator();
    const lines: string[] = [];
    const reader = 'reader-key-0123456789';
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      GRAPH_AUTH_FLOW: 'authorization-code',
      CALLER_AUTH: 'api-key',
      API_KEYS: `reader:${hashApiKey(reader)}:Users.Read`,
      TOKEN_CACHE_KEY: 'quiet refusal counts test token cache key',
    });
    const app = await startApp(config, { emulator, logger: capturingLogger(lines, 'info') });
    try {
      for (let i = 0; i < 6; i += 1) {
        const res = await fetch(`${app.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': reader } });
        expect(res.status).toBe(403);
        await res.body?.cancel();
      }
    } finally {
      await app.close();
      await emulator.close();
    }
    const records = logRecordsOf(lines);
    expect(records.filter((r) => r.msg === FAILED && r.reason === 'not_operator')).toHaveLength(1);
    expect(records.filter((r) => r.msg === NOT_LOGGED)).toEqual([
      expect.objectContaining({ reason: 'not_operator', clientAddress: '127.0.0.1', notLogged: 5 }),
    ]);
  }, 60_000);
});
