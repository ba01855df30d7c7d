import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import type { UserRecord } from '../../src/emulator/model.js';
import { apiKeyCallers } from '../support/api-key-callers.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { addGroup, ordinaryUserPicker } from '../graphql/mutations/support.js';
import { grantRole, joinGroup, keepPreviousUpn } from '../../src/emulator/user-record.js';

/**
 * The role lookup of administrators as targets (docs/security.md#administrators-as-targets).
 *
 * A user in many groups.
 * The role lookup, `transitiveMemberOf/microsoft.graph.directoryRole`, is a paged collection of the
 * user's memberships (at most 999 a page) to which the cast applies, and a page may hold zero results
 * while a later one holds the role (docs/graph-facts.md#paging). Before, the gateway read the first
 * page only and took an empty one for "no role": a helpdesk key minted a Temporary Access Pass for a
 * Global Administrator who belongs to more groups than a page holds (users in hundreds of groups are
 * common; Graph's own example shows 588). Production composition, real sockets.
 */

const HELPDESK = 'helpdesk-key-0123456789abcdef';
const ROLE_LOOKUP = 'GET /v1.0/users/{id}/transitiveMemberOf/microsoft.graph.directoryRole';
/** More than the 999 a page holds at most: the first page of the cast is empty. */
const GROUPS = 1_200;

let emulator: TestEmulator;
let app: App;
const logLines: string[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  const config = loadSandboxConfig(emulator, {
    NODE_ENV: 'production',
    TOKEN_CACHE_KEY: 'admin target role pages test key',
    ...apiKeyCallers({ helpdesk: { key: HELPDESK, permissions: ['Users.ManageAuthMethods'] } }),
  });
  app = await startApp(config, { emulator, logger: capturingLogger(logLines, 'info') });
}, 60_000);
afterAll(async () => {
  await app?.close();
  await emulator?.close();
});

const pick = ordinaryUserPicker(() => emulator);
/** Puts a user in `count` new groups (listed before its roles, as the emulator pages memberships). */
function joinGroups(user: UserRecord, count: number): void {
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    emulator.tenant.groups.set(id, {
      id,
      displayName: `Distribution ${i}`,
      description: null,
      mail: null,
      mailEnabled: false,
      securityEnabled: true,
      groupTypes: [],
    });
    user.memberOf.push(id);
  }
}
const passesOf = (user: UserRecord) => user.authMethods.filter((m) => m.type === 'temporaryAccessPass');
async function createPass(user: string, operationName: string) {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': HELPDESK },
    body: JSON.stringify({
      query: `mutation ${operationName}($u: ID!) { createTemporaryAccessPass(input: {user: $u}) { temporaryAccessPass { temporaryAccessPass } } }`,
      variables: { u: user },
    }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { data?: { createTemporaryAccessPass: unknown } | null; errors?: Array<{ extensions: Record<string, unknown> }> };
}
const eventsOf = (operationName: string) => logRecordsOf(logLines).filter((r) => r.audit === true && r.operationName === operationName);

describe('the role lookup reads every page of the cast', () => {
  it('regression: a Global Administrator in more groups than a page holds is still an administrator, and gets no pass', async () => {
    const target = pick();
    joinGroups(target, GROUPS);
    target._directoryRoles.push('Global Administrator');
    await emulator.resetStats();
    const result = await createPass(target.userPrincipalName, 'ManyGroupsAdmin');
    expect(result.data?.createTemporaryAccessPass ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET', argument: 'user' });
    expect(passesOf(target)).toHaveLength(0);
    // Two pages of 999 memberships at most: the role is on the second (the first page is an item of
    // the lookups' $batch, the next one a request of its own).
    const stats = await emulator.stats();
    expect((stats.batch.itemsByRoute[ROLE_LOOKUP] ?? 0) + (stats.byRoute[ROLE_LOOKUP] ?? 0)).toBe(2);
    expect(eventsOf('ManyGroupsAdmin')).toEqual([expect.objectContaining({ outcome: 'refused', reasonDetail: 'ADMINISTRATOR_TARGET' })]);
  });

  it('a user in as many groups without a role gets the pass after every page was read', async () => {
    const target = pick();
    joinGroups(target, GROUPS);
    await emulator.resetStats();
    const result = await createPass(target.id, 'ManyGroupsUser');
    expect(result.errors).toBeUndefined();
    expect(passesOf(target)).toHaveLength(1);
    const stats = await emulator.stats();
    expect((stats.batch.itemsByRoute[ROLE_LOOKUP] ?? 0) + (stats.byRoute[ROLE_LOOKUP] ?? 0)).toBe(2);
  });
});

describe('a target named by userPrincipalName is found before its roles are read', () => {
  /**
   * The role lookup is an advanced query (`ConsistencyLevel: eventual`), served from an index that
   * "might not be up-to-date with recent changes to the object" (docs/graph-facts.md#writes-and-permissions);
   * the write is not. Before, the lookup addressed the target by the name the caller gave: an
   * administrator renamed a minute ago was not found under the new name by the index (404, taken for
   * "no role") while the write found them, and a helpdesk key minted their pass.
   */
  it('regression: a Global Administrator renamed while the index lags is still an administrator, and gets no pass', async () => {
    const target = pick();
    target._directoryRoles.push('Global Administrator');
    const renamed = `it-root-${target.id.slice(0, 8)}@${target.userPrincipalName.split('@')[1]}`;
    keepPreviousUpn(target, renamed, Date.now());
    target.userPrincipalName = renamed;
    expect((await emulator.setGraph({ advancedQueryIndexLagSeconds: 600 })).status).toBe(200);
    try {
      await emulator.resetStats();
      const result = await createPass(renamed, 'RenamedAdmin');
      expect(result.data?.createTemporaryAccessPass ?? null).toBeNull();
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET', argument: 'user' });
      expect(passesOf(target)).toHaveLength(0);
      expect(eventsOf('RenamedAdmin')).toEqual([expect.objectContaining({ outcome: 'refused', reasonDetail: 'ADMINISTRATOR_TARGET' })]);
    } finally {
      await emulator.setGraph({ advancedQueryIndexLagSeconds: 0 });
    }
  });

  it('under the same lag a renamed user without a role still gets the pass, and a name nobody holds meets Graph 404', async () => {
    const target = pick();
    const renamed = `renamed-${target.id.slice(0, 8)}@${target.userPrincipalName.split('@')[1]}`;
    keepPreviousUpn(target, renamed, Date.now());
    target.userPrincipalName = renamed;
    await emulator.setGraph({ advancedQueryIndexLagSeconds: 600 });
    try {
      const result = await createPass(renamed, 'RenamedUser');
      expect(result.errors).toBeUndefined();
      expect(passesOf(target)).toHaveLength(1);
      const nobody = await createPass(`nobody-${target.id.slice(0, 8)}@${target.userPrincipalName.split('@')[1]}`, 'NobodyPass');
      expect(nobody.errors![0]!.extensions).toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await emulator.setGraph({ advancedQueryIndexLagSeconds: 0 });
    }
  });
});

describe('a membership made a moment ago counts', () => {
  /**
   * The user's role-assignable groups used to come from `transitiveMemberOf/microsoft.graph.group`
   * with a filter, an advanced query served from an index that "might not be up-to-date with recent
   * changes to the object" (docs/graph-facts.md#writes-and-permissions, "Recent memberships"), as is
   * the directoryRole cast. A user added a minute ago to a role-assignable group holding or eligible
   * for Global Administrator was in neither answer, and the roles' own lists name the group, not its
   * members: a helpdesk key minted their pass. The memberships now come from getMemberObjects, which
   * no index serves.
   */
  const MEMBER_OBJECTS = 'POST /v1.0/users/{id}/getMemberObjects';
  const GROUP_CAST = 'GET /v1.0/users/{id}/transitiveMemberOf/microsoft.graph.group';

  it('regression: a user who joined a group eligible for Global Administrator while the index lags gets no pass', async () => {
    const target = pick();
    const admins = addGroup(emulator, { _eligibleRoles: [{ role: 'Global Administrator', directoryScopeId: '/' }] });
    joinGroup(target, admins.id, Date.now());
    expect((await emulator.setGraph({ advancedQueryIndexLagSeconds: 600 })).status).toBe(200);
    try {
      await emulator.resetStats();
      const result = await createPass(target.id, 'JustJoinedAdmin');
      expect(result.data?.createTemporaryAccessPass ?? null).toBeNull();
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET', argument: 'user' });
      expect(passesOf(target)).toHaveLength(0);
      expect(eventsOf('JustJoinedAdmin')).toEqual([expect.objectContaining({ outcome: 'refused', reasonDetail: 'ADMINISTRATOR_TARGET' })]);
      const stats = await emulator.stats();
      expect(stats.batch.itemsByRoute[MEMBER_OBJECTS]).toBe(1);
      expect(stats.batch.itemsByRoute[GROUP_CAST] ?? 0).toBe(0);
    } finally {
      await emulator.setGraph({ advancedQueryIndexLagSeconds: 0 });
    }
  });

  it('regression: a user created a moment ago and put in a group holding an active assignment gets no pass', async () => {
    const target = pick();
    // Unknown to the lagging index at all: its casts answer 404, which reads as "no role".
    target.createdDateTime = new Date().toISOString();
    const unitAdmins = addGroup(emulator, { _scopedRoles: [{ role: 'User Administrator', directoryScopeId: `/administrativeUnits/${randomUUID()}` }] });
    joinGroup(target, unitAdmins.id, Date.now());
    await emulator.setGraph({ advancedQueryIndexLagSeconds: 600 });
    try {
      const result = await createPass(target.userPrincipalName, 'NewUnitAdmin');
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
      expect(passesOf(target)).toHaveLength(0);
    } finally {
      await emulator.setGraph({ advancedQueryIndexLagSeconds: 0 });
    }
  });

  it('a Global Administrator granted the role a moment ago, whom the role cast does not list yet, gets no pass (the assignments list is no advanced query)', async () => {
    const target = pick();
    grantRole(target, 'Global Administrator', Date.now());
    await emulator.setGraph({ advancedQueryIndexLagSeconds: 600 });
    try {
      const result = await createPass(target.id, 'JustGrantedAdmin');
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
      expect(passesOf(target)).toHaveLength(0);
    } finally {
      await emulator.setGraph({ advancedQueryIndexLagSeconds: 0 });
    }
  });

  it('under the same lag a user who joined a role-assignable group holding nothing still gets the pass', async () => {
    const target = pick();
    joinGroup(target, addGroup(emulator).id, Date.now());
    await emulator.setGraph({ advancedQueryIndexLagSeconds: 600 });
    try {
      const result = await createPass(target.id, 'JustJoinedUser');
      expect(result.errors).toBeUndefined();
      expect(passesOf(target)).toHaveLength(1);
    } finally {
      await emulator.setGraph({ advancedQueryIndexLagSeconds: 0 });
    }
  });
});
