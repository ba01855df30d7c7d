import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { appCallerToken } from '../identity/support.js';

/** The emulator's admin routes (contract for tests and benchmarks): stats, faults, reset. */
describe('emulator admin routes', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 50 });
  });
  afterAll(async () => {
    await emulator.close();
  });

  async function appToken(): Promise<string> {
    const known = emulator.tenant.wellKnown;
    return appCallerToken(emulator, known.demoAppId, known.demoAppSecret, `${emulator.origin}/.default`);
  }

  it('counts Graph and token requests by route, and DELETE /_emulator/stats zeroes them', async () => {
    await emulator.resetStats();
    const token = await appToken();
    const someone = [...emulator.tenant.users.values()][3]!;
    await emulator.fetch(`/v1.0/users/${someone.id}?$select=id`, { headers: { authorization: `Bearer ${token}` } });
    const stats = await emulator.stats();
    expect(stats.tokenRequests).toBe(1);
    expect(stats.graphRequests).toBe(1);
    expect(stats.byRoute['GET /v1.0/users/{id}']).toBe(1);
    await emulator.resetStats();
    expect((await emulator.stats()).totalRequests).toBe(0);
  });

  it('refuses invalid fault settings with a clear message', async () => {
    const res = await emulator.fetch('/_emulator/faults', {
      method: 'POST',
      body: JSON.stringify({ throttleRate: 2 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/throttleRate/);
  });

  it('POST /_emulator/reset restores the seeded tenant and clears stats and faults', async () => {
    const token = await appToken();
    const victim = [...emulator.tenant.users.values()].find((u) => u.accountEnabled && u._directoryRoles.length === 0)!;
    const patch = await emulator.fetch(`/v1.0/users/${victim.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jobTitle: 'Changed by test' }),
    });
    expect(patch.status).toBe(204);
    expect(emulator.tenant.users.get(victim.id)!.jobTitle).toBe('Changed by test');
    await emulator.setFaults({ latencyMs: 5 });

    const reset = await emulator.fetch('/_emulator/reset', { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(emulator.tenant.users.get(victim.id)!.jobTitle).not.toBe('Changed by test');
    expect((await emulator.stats()).totalRequests).toBe(0);
    const faults = (await (await emulator.fetch('/_emulator/faults')).json()) as { latencyMs: number };
    expect(faults.latencyMs).toBe(0);
  });
});
