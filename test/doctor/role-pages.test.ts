import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApp } from '../../src/emulator/apps.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { doctorInProcess, leastApplicationPermissions, registerTestApp, tenantEnv, type DoctorRun } from './support.js';

/**
 * The doctor reads the app's role assignments (`principalId eq` its service principal) to say which
 * users it may act on. Graph may answer a filtered list in pages, an empty first page included
 * (docs/graph-facts.md#paging); the emulator pages the role-management lists by 100, the filter applied
 * per page. Reading the first page alone said "holds no directory role" of an app that holds one.
 */
let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  // 120 other apps with a role each: their assignments come first in the list, so the test app's
  // own lies past the first page of 100.
  for (let i = 0; i < 120; i++) registerApp(emulator.tenant, { displayName: `filler app ${i}`, graphAppRoles: [], directoryRoles: ['Helpdesk Administrator'] });
}, 60_000);
afterAll(async () => emulator?.close());

const line = (result: DoctorRun, pattern: RegExp) => result.lines.find((l) => pattern.test(l));

describe('the role the app holds, past the first page of its role assignments', () => {
  it('is found: terminateSession is ok with Privileged Authentication Administrator', async () => {
    const app = registerTestApp(emulator, [...leastApplicationPermissions(), 'RoleManagement.Read.Directory']);
    const result = await doctorInProcess(tenantEnv(emulator, app));
    expect(line(result, /^ok\s+terminateSession: the service principal/)).toMatch(/holds Privileged Authentication Administrator: it may act on every user/);
  }, 120_000);
});
