import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestEmulator } from '../../support/emulator.js';
import { PASSWORD_METHOD_ID } from '../../../src/emulator/seed.js';
import { type graphCaller, mintToken, startEmulatorAsApp, USER_ADMIN_APP_ID } from './graph-client.js';

let emulator: TestEmulator;
let graph: ReturnType<typeof graphCaller>;
/** The emulator's injected clock: tests move it to expire tokens and finish operations. */
let clockOffsetMs = 0;

beforeAll(async () => {
  ({ emulator, graph } = await startEmulatorAsApp(['Privileged Authentication Administrator'], { userCount: 450, now: () => Date.now() + clockOffsetMs }));
});
afterAll(async () => {
  await emulator.close();
});

async function followDelta(start: string): Promise<{ items: Array<Record<string, unknown>>; deltaLink: string; pages: number }> {
  const items: Array<Record<string, unknown>> = [];
  let url: string | undefined = start;
  let pages = 0;
  for (;;) {
    const res = await graph('GET', url!);
    expect(res.status).toBe(200);
    items.push(...res.body.value);
    pages += 1;
    if (res.body['@odata.nextLink']) url = res.body['@odata.nextLink'];
    else return { items, deltaLink: res.body['@odata.deltaLink'], pages };
  }
}

describe('GET /v1.0/users/delta', () => {
  it('initial sync pages to a deltaLink; the deltaLink returns changes and removals', async () => {
    const initial = await followDelta('/v1.0/users/delta?$select=displayName,jobTitle');
    expect(initial.pages).toBeGreaterThan(1);
    expect(initial.items).toHaveLength(450);
    expect(Object.keys(initial.items[0]!).sort()).toEqual(['displayName', 'id', 'jobTitle']);
    expect(initial.deltaLink).toContain('$deltatoken=');

    const none = await followDelta(initial.deltaLink);
    expect(none.items).toEqual([]);

    const users = [...emulator.tenant.users.values()];
    const changed = users[10]!;
    const removed = users[11]!;
    expect((await graph('PATCH', `/v1.0/users/${changed.id}`, { body: { jobTitle: 'Delta Watcher' } })).status).toBe(204);
    expect((await graph('DELETE', `/v1.0/users/${removed.id}`)).status).toBe(204);
    const changes = await followDelta(none.deltaLink);
    expect(changes.items).toEqual(
      expect.arrayContaining([
        { id: changed.id, displayName: changed.displayName, jobTitle: 'Delta Watcher' },
        { id: removed.id, '@removed': { reason: 'changed' } },
      ]),
    );
    expect(changes.items).toHaveLength(2);
  });

  it('$deltatoken=latest starts from now; expired tokens are syncStateNotFound; unknown ones 410', async () => {
    const latest = await graph('GET', '/v1.0/users/delta?$deltatoken=latest');
    expect(latest.body.value).toEqual([]);
    const deltaLink = latest.body['@odata.deltaLink'] as string;
    clockOffsetMs = 8 * 24 * 3600 * 1000;
    try {
      // A delta token the emulator clock considers 8 days old, read with an access token minted on that clock (the old one has expired).
      const token = await mintToken(emulator, { appid: USER_ADMIN_APP_ID, issuedAt: Math.floor((Date.now() + clockOffsetMs) / 1000) });
      const expired = await graph('GET', deltaLink, { token });
      expect(expired.status).toBe(400);
      expect(expired.body.error.code).toBe('syncStateNotFound');
    } finally {
      clockOffsetMs = 0;
    }
    const unknown = await graph('GET', '/v1.0/users/delta?$deltatoken=not-a-token');
    expect(unknown.status).toBe(410);
    expect(unknown.headers.get('location')).toBe(`${emulator.origin}/v1.0/users/delta`);
  });
});

describe('authentication methods', () => {
  const plainUser = () =>
    [...emulator.tenant.users.values()].find(
      (u) => u._directoryRoles.length === 0 && u.userType === 'Member' && !u.onPremisesSyncEnabled && u.authMethods.length > 2,
    )!;

  it('lists methods and per-type collections; the password method cannot be deleted', async () => {
    const user = plainUser();
    const all = await graph('GET', `/v1.0/users/${user.id}/authentication/methods`);
    expect(all.status).toBe(200);
    expect(all.body.value.map((m: { id: string }) => m.id)).toContain(PASSWORD_METHOD_ID);
    expect(all.body.value.find((m: { id: string }) => m.id === PASSWORD_METHOD_ID)['@odata.type']).toBe('#microsoft.graph.passwordAuthenticationMethod');
    // Not the user's default MFA method, which Graph does not delete (docs/graph-facts.md#deleting-authentication-methods).
    const other = user.authMethods.find((m) => m.type !== 'password' && m.id !== user._defaultMfaMethodId)!;
    const collection = `${other.type}Methods`;
    const typed = await graph('GET', `/v1.0/users/${user.id}/authentication/${collection}/${other.id}`);
    expect(typed.body.id).toBe(other.id);
    expect((await graph('DELETE', `/v1.0/users/${user.id}/authentication/passwordMethods/${PASSWORD_METHOD_ID}`)).status).toBe(400);
    expect((await graph('DELETE', `/v1.0/users/${user.id}/authentication/${collection}/${other.id}`)).status).toBe(204);
    expect(user.authMethods.some((m) => m.id === other.id)).toBe(false);
    const readOnly = await mintToken(emulator, { roles: ['User.Read.All'] });
    expect((await graph('GET', `/v1.0/users/${user.id}/authentication/methods`, { token: readOnly })).status).toBe(403);
  });

  it('creates a temporary access pass and shows it once', async () => {
    const user = plainUser();
    const tooLong = await graph('POST', `/v1.0/users/${user.id}/authentication/temporaryAccessPassMethods`, { body: { lifetimeInMinutes: 50000 } });
    expect(tooLong.status).toBe(400);
    const created = await graph('POST', `/v1.0/users/${user.id}/authentication/temporaryAccessPassMethods`, {
      body: { lifetimeInMinutes: 60, isUsableOnce: true },
    });
    expect(created.status).toBe(201);
    expect(created.body.temporaryAccessPass).toMatch(/^.{8}$/);
    const again = await graph('GET', `/v1.0/users/${user.id}/authentication/temporaryAccessPassMethods/${created.body.id}`);
    expect(again.body.temporaryAccessPass).toBeNull();
  });

  /** A delegated token of the seeded Global Administrator: resetPassword is delegated-only. */
  const asAdmin = () => mintToken(emulator, { scp: 'UserAuthenticationMethod.ReadWrite.All', oid: emulator.tenant.wellKnown.adminUserId });

  it('resetPassword answers 202 + Location; the operation completes after about a second of emulator time', async () => {
    const user = plainUser();
    const token = await asAdmin();
    const res = await graph('POST', `/v1.0/users/${user.id}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`, {
      body: { newPassword: 'Rq5!mnb-Tz8w' },
      token,
    });
    expect(res.status).toBe(202);
    const location = res.headers.get('location')!;
    // The page's examples carry the service's own query parameters (docs/graph-facts.md#writes-and-permissions).
    expect(location).toMatch(new RegExp(`^${emulator.origin}/v1.0/users/${user.id}/authentication/operations/[0-9a-f-]{36}\\?aadgdc=\\w+&aadgsu=[\\w-]+$`));
    expect(res.headers.get('retry-after')).toBeTruthy();
    const early = await graph('GET', location);
    expect(['notStarted', 'running']).toContain(early.body.status);
    expect(user._password).not.toBe('Rq5!mnb-Tz8w');
    clockOffsetMs = 2000;
    try {
      const done = await graph('GET', location);
      expect(done.body.status).toBe('succeeded');
      expect(user._password).toBe('Rq5!mnb-Tz8w');
    } finally {
      clockOffsetMs = 0;
    }
    const synced = [...emulator.tenant.users.values()].find((u) => u.onPremisesSyncEnabled && u._directoryRoles.length === 0)!;
    const needsPassword = await graph('POST', `/v1.0/users/${synced.id}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`, { body: {}, token });
    expect(needsPassword.status).toBe(400);
  });
});
