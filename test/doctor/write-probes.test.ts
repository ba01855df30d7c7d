import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { renderText } from '../../src/doctor/report.js';
import { runDoctor } from '../../src/doctor/run.js';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/http/upstream.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { leastApplicationPermissions, registerTestApp, tenantEnv } from './support.js';

/**
 * The write probes when the re-enable does not go through: the doctor must say, as its loudest
 * line, that it left the test user disabled. The failure is a real connection failure at the HTTP
 * layer (the injected I/O seam), for the re-enabling PATCH only.
 */
let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 40 });
}, 60_000);

afterAll(async () => {
  await emulator.close();
});

function plainMember(): UserRecord {
  return [...emulator.tenant.users.values()].find((u) => u.accountEnabled && u.userType === 'Member' && u._directoryRoles.length === 0)!;
}

/** Passes everything through, except that a PATCH enabling an account never gets an answer. */
function refusingReEnable(real: UpstreamHttp): UpstreamHttp {
  return {
    dispatcher: real.dispatcher,
    fetch: real.fetch,
    request: async (url, init) => {
      if (init?.method === 'PATCH' && init.body?.includes('"accountEnabled":true')) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return real.request!(url, init);
    },
    close: () => real.close(),
  };
}

describe('write probes when re-enabling fails', () => {
  it('the last and loudest line says the test user is left disabled; exit 1', async () => {
    const app = registerTestApp(emulator, leastApplicationPermissions());
    const config = loadConfig(tenantEnv(emulator, app, { MAX_RETRIES: '0' }), { purpose: 'tool' });
    const upstream = refusingReEnable(createUpstreamHttp({ extraCaPem: config.extraCaPem }));
    const target = plainMember();
    try {
      const report = await runDoctor(
        config,
        { testUser: target.id, allowWrites: true },
        { upstream, logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }) },
      );
      expect(report.exitCode).toBe(1);
      expect(report.checks.find((c) => c.id === 'write:disable')?.status).toBe('ok');
      const lines = renderText(report).trimEnd().split('\n');
      expect(lines.at(-2)).toMatch(
        new RegExp(`^!!! FAILED: RE-ENABLE FAILED: test user ${target.userPrincipalName} \\(${target.id}\\) is left DISABLED: .* !!!$`),
      );
      expect(lines.at(-2)).toContain('enable it now in the Entra admin center');
      expect(target.accountEnabled).toBe(false);
    } finally {
      target.accountEnabled = true;
      await upstream.close();
    }
  }, 60_000);

  it('a refused disable still gets its re-enable attempt, and a user who stayed enabled is not reported as left disabled', async () => {
    // Revoke allowed, enable/disable not: both PATCHes are refused with 403.
    const app = registerTestApp(
      emulator,
      leastApplicationPermissions().filter((p) => p !== 'User.EnableDisableAccount.All' && p !== 'User.ReadWrite.All'),
    );
    const config = loadConfig(tenantEnv(emulator, app), { purpose: 'tool' });
    const upstream = createUpstreamHttp({ extraCaPem: config.extraCaPem });
    const target = plainMember();
    await emulator.resetStats();
    try {
      const report = await runDoctor(
        config,
        { testUser: target.userPrincipalName, allowWrites: true },
        { upstream, logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }) },
      );
      expect(report.checks.find((c) => c.id === 'write:disable')).toMatchObject({ status: 'failed', httpStatus: 403 });
      expect(report.checks.find((c) => c.id === 'write:re-enable')).toMatchObject({ status: 'failed', httpStatus: 403 });
      expect(report.checks.some((c) => c.critical)).toBe(false);
      expect(target.accountEnabled).toBe(true);
      // The disable and the re-enable were both sent, and nothing else was written.
      const stats = await emulator.stats();
      expect(stats.byRoute['PATCH /v1.0/users/{id}']).toBe(2);
      expect(stats.batch.itemsByRoute['POST /v1.0/users/{id}/revokeSignInSessions']).toBe(1);
    } finally {
      await upstream.close();
    }
  }, 60_000);
});
