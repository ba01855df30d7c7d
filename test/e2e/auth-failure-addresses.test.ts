import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { MAX_COUNTED_ADDRESSES } from '../../src/identity/authentication-failures.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { capturingLogger } from '../support/log-capture.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * The failure counts kept in memory hold at most MAX_COUNTED_ADDRESSES client addresses. Before,
 * rate-limiter-flexible's memory store kept every address that failed for the whole window
 * (~620 bytes of heap each): failures from 200,000 addresses within 5 minutes, which one peer in
 * TRUSTED_PROXIES can write into `X-Forwarded-For` (or an IPv6 /46 counted by /64), held ~120 MB,
 * past the image's 128 MB heap. Past the bound the oldest address is forgotten, which is what this
 * test observes: an address blocked first is admitted again once MAX_COUNTED_ADDRESSES newer
 * addresses have failed (before, it stayed blocked: its record was still held).
 * Production configuration, API keys, TRUSTED_PROXIES=loopback, real sockets.
 */
const KEY = 'reader-key-0123456789';

describe('addresses counted for failed authentication (production configuration)', () => {
  let emulator: TestEmulator;
  let app: App;
  const agent = new Agent({ connections: 8 });
  const logLines: string[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 5 });
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      ...apiKeyCallers({ reader: { key: KEY, permissions: ['Users.Read'] } }),
      TRUSTED_PROXIES: 'loopback',
    });
    // `error` only: 10,000 failure lines are not what this test reads.
    app = await startApp(config, { emulator, logger: capturingLogger(logLines, 'error') });
  }, 60_000);

  afterAll(async () => {
    await agent.close();
    await app.close();
    await emulator.close();
  });

  const attempt = async (client: string, key = 'wrong-key'): Promise<number> => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', 'x-api-key': key, 'x-forwarded-for': client },
      body: '{"query":"{ __typename }"}',
    });
    await res.arrayBuffer();
    return res.status;
  };

  it('forgets the oldest address past MAX_COUNTED_ADDRESSES instead of holding every address for the whole window', async () => {
    const first = '198.51.100.7';
    for (let i = 0; i < 10; i++) expect(await attempt(first)).toBe(401);
    expect(await attempt(first, KEY)).toBe(429);

    // One failure each from MAX_COUNTED_ADDRESSES other clients (IPv6, counted by /64), 8 at a time.
    let next = 0;
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < MAX_COUNTED_ADDRESSES) {
          const n = next++;
          const status = await attempt(`2001:db8:${(n >> 16) & 0xffff}:${n & 0xffff}::1`);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    expect(Object.fromEntries(statuses)).toEqual({ 401: MAX_COUNTED_ADDRESSES });

    // The first address was the oldest: its count is gone, so its right key is answered again.
    expect(await attempt(first, KEY)).toBe(200);
    // The newest addresses are still counted.
    for (let i = 0; i < 9; i++) expect(await attempt(`2001:db8:0:${MAX_COUNTED_ADDRESSES - 1}::1`)).toBe(401);
    expect(await attempt(`2001:db8:0:${MAX_COUNTED_ADDRESSES - 1}::1`, KEY)).toBe(429);
    expect(logLines).toEqual([]);
    // 10,000 requests: about 25 s on a quiet machine, five times that on one busy with other work.
  }, 300_000);
});
