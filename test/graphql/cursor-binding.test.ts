import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config.js';
import { appCallerToken, userCallerToken } from '../identity/support.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';

/**
 * Cursors and change-feed tokens are bound to the caller they were issued to (src/graphql/cursor.ts,
 * docs/security.md#cursors-and-change-feed-tokens). Before, a cursor or delta token handed to API key
 * A continued its list or feed for anyone who presented it: API key B, or another Entra user. Now
 * another caller gets the same BAD_USER_INPUT as for a forged token, and Graph sees nothing; the same
 * caller keeps its tokens on another replica (one CURSOR_KEY) and across an API key rotation (one
 * name, a new key). Tokens of the two earlier formats carry no binding and stay accepted.
 */

const ALPHA = 'alpha-key-before-rotation-0123456789';
const ALPHA_ROTATED = 'alpha-key-after-rotation-0123456789';
const BRAVO = 'bravo-key-0123456789';
const PERMISSIONS = 'Users.Read+Users.ReadChanges';
const LIST_REFUSAL = 'is not a cursor this gateway issued for this list';

const PAGE = 'query($after: String) { users(first: 2, after: $after) { nodes { id } pageInfo { endCursor } } }';
const CHANGES = 'query($t: String) { userChanges(deltaToken: $t) { changed { id } nextDeltaToken } }';
const REPORTS = 'query($id: ID!, $after: String) { user(id: $id) { directReports(first: 10, after: $after) { nodes { id } } } }';

type Page = { users: { nodes: Array<{ id: string }>; pageInfo: { endCursor: string } } };
type Changes = { userChanges: { changed: Array<{ id: string }>; nextDeltaToken: string } };

let emulator: TestEmulator;
let issuer: TestGateway;
let replica: TestGateway;
let entra: TestGateway;
const cursorKey = randomBytes(32);

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 30 });
  const keysEnv = {
    DEPLOYMENT_MODE: 'self-deployed',
    CALLER_AUTH: 'api-key',
    // Two keys of one name: a rotation in progress (docs/identity.md#api-keys).
    API_KEYS: [
      `alpha:${hashApiKey(ALPHA)}:${PERMISSIONS}`,
      `alpha:${hashApiKey(ALPHA_ROTATED)}:${PERMISSIONS}`,
      `bravo:${hashApiKey(BRAVO)}:${PERMISSIONS}`,
    ].join(','),
  };
  [issuer, replica, entra] = await Promise.all([
    startTestGateway({ emulator, env: keysEnv, deps: { cursorKey } }),
    startTestGateway({ emulator, env: keysEnv, deps: { cursorKey: Buffer.from(cursorKey) } }),
    startTestGateway({
      emulator,
      env: { DEPLOYMENT_MODE: 'self-deployed', CALLER_AUTH: 'entra', API_AUDIENCE: 'api://msgraph-user-gateway' },
      deps: { cursorKey },
    }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([issuer?.close(), replica?.close(), entra?.close()]);
  await emulator?.close();
});

const withKey = (key: string) => ({ 'x-api-key': key });
const withToken = (token: string) => ({ authorization: `Bearer ${token}` });

/** The answer and how many Graph requests it cost. */
async function measured<T>(call: () => Promise<GraphQLResult<T>>): Promise<{ result: GraphQLResult<T>; graphRequests: number }> {
  await emulator.resetStats();
  const result = await call();
  return { result, graphRequests: (await emulator.stats()).graphRequests };
}

async function cursorOf(gw: TestGateway, headers: Record<string, string>): Promise<string> {
  const page = await gw.graphql<Page>(PAGE, {}, headers);
  expect(page.errors).toBeUndefined();
  return page.data!.users.pageInfo.endCursor;
}

async function deltaTokenOf(gw: TestGateway, headers: Record<string, string>): Promise<string> {
  let token: string | undefined;
  // The full sync of 30 users is one call; loop in case Graph's pages say otherwise.
  for (let call = 0; call < 10; call++) {
    const round = await gw.graphql<Changes & { userChanges: { complete: boolean } }>(
      'query($t: String) { userChanges(deltaToken: $t) { complete nextDeltaToken } }',
      token ? { t: token } : {},
      headers,
    );
    expect(round.errors).toBeUndefined();
    token = round.data!.userChanges.nextDeltaToken;
    if (round.data!.userChanges.complete) break;
  }
  return token!;
}

function expectListRefusal(result: GraphQLResult<unknown>) {
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  expect(result.errors![0]!.message).toContain(LIST_REFUSAL);
  // Nothing says whose it was.
  expect(result.errors![0]!.message).not.toMatch(/alpha|caller|another|belongs/i);
}

describe('API-key callers', () => {
  it("refuses another key's page cursor like a forged one, without a Graph request", async () => {
    const cursor = await cursorOf(issuer, withKey(ALPHA));
    const { result, graphRequests } = await measured(() => issuer.graphql(PAGE, { after: cursor }, withKey(BRAVO)));
    expectListRefusal(result);
    expect(graphRequests).toBe(0);
  });

  it("refuses another key's delta token with the resync advice, without a Graph request", async () => {
    const token = await deltaTokenOf(issuer, withKey(ALPHA));
    const { result, graphRequests } = await measured(() => issuer.graphql(CHANGES, { t: token }, withKey(BRAVO)));
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'DELTA_TOKEN_UNKNOWN' });
    expect(graphRequests).toBe(0);
  });

  it('accepts the same key’s cursor and delta token on another replica sharing CURSOR_KEY', async () => {
    const cursor = await cursorOf(issuer, withKey(ALPHA));
    const onIssuer = await issuer.graphql<Page>(PAGE, { after: cursor }, withKey(ALPHA));
    const onReplica = await replica.graphql<Page>(PAGE, { after: cursor }, withKey(ALPHA));
    expect(onReplica.errors).toBeUndefined();
    expect(onReplica.data!.users.nodes).toHaveLength(2);
    expect(onReplica.data!.users.nodes).toEqual(onIssuer.data!.users.nodes);
    // ... and still not another key's there.
    expectListRefusal(await replica.graphql(PAGE, { after: cursor }, withKey(BRAVO)));

    const token = await deltaTokenOf(issuer, withKey(ALPHA));
    const changes = await replica.graphql<Changes>(CHANGES, { t: token }, withKey(ALPHA));
    expect(changes.errors).toBeUndefined();
    expect(changes.data!.userChanges.changed).toEqual([]);
  });

  it('keeps the cursors and delta tokens of a rotated API key (bound to its name, not to the key)', async () => {
    const cursor = await cursorOf(issuer, withKey(ALPHA));
    const token = await deltaTokenOf(issuer, withKey(ALPHA));
    const page = await issuer.graphql<Page>(PAGE, { after: cursor }, withKey(ALPHA_ROTATED));
    expect(page.errors).toBeUndefined();
    expect(page.data!.users.nodes).toHaveLength(2);
    const changes = await replica.graphql<Changes>(CHANGES, { t: token }, withKey(ALPHA_ROTATED));
    expect(changes.errors).toBeUndefined();
  });
});

describe('Entra callers', () => {
  it("refuses one user's cursor for another user, and one app's for another app", async () => {
    const known = emulator.tenant.wellKnown;
    const users = [...emulator.tenant.users.values()].filter((u) => u.accountEnabled && u.userType === 'Member' && u.id !== known.adminUserId);
    const admin = emulator.tenant.users.get(known.adminUserId)!;
    const [adminToken, otherToken, appToken, readerAppToken] = await Promise.all([
      userCallerToken(emulator, admin.userPrincipalName, known.adminPassword || admin._password),
      userCallerToken(emulator, users[0]!.userPrincipalName, users[0]!._password),
      appCallerToken(emulator, known.callerAppId, known.callerAppSecret),
      appCallerToken(emulator, known.readerCallerAppId, known.readerCallerAppSecret),
    ]);
    const adminCursor = await cursorOf(entra, withToken(adminToken));
    const own = await entra.graphql<Page>(PAGE, { after: adminCursor }, withToken(adminToken));
    expect(own.errors).toBeUndefined();
    expect(own.data!.users.nodes).toHaveLength(2);
    for (const stranger of [otherToken, appToken]) {
      const { result, graphRequests } = await measured(() => entra.graphql(PAGE, { after: adminCursor }, withToken(stranger)));
      expectListRefusal(result);
      expect(graphRequests).toBe(0);
    }
    const appCursor = await cursorOf(entra, withToken(appToken));
    const { result, graphRequests } = await measured(() => entra.graphql(PAGE, { after: appCursor }, withToken(readerAppToken)));
    expectListRefusal(result);
    expect(graphRequests).toBe(0);
  });
});

describe('tokens of the earlier formats', () => {
  it('are still accepted, from any caller: they carry no binding (transition; docs/querying.md)', async () => {
    const tenant = [...emulator.tenant.users.values()];
    const manager = tenant.find((u) => tenant.filter((r) => r.managerId === u.id).length > 2)!;
    const all = await issuer.graphql<{ user: { directReports: { nodes: Array<{ id: string }> } } }>(REPORTS, { id: manager.id }, withKey(ALPHA));
    expect(all.errors).toBeUndefined();
    const expected = all.data!.user.directReports.nodes.slice(1);
    // "Continue after the first report": the first page again, one item skipped.
    const text = JSON.stringify({ v: 1, kind: `directReports:${manager.id}`, nextLink: null, skip: 1, advanced: false });
    const body = Buffer.from(text).toString('base64url');
    const signed = `${body}.${createHmac('sha256', cursorKey).update(body).digest('base64url')}`;
    const iv = randomBytes(12);
    const cipher = createCipheriv(
      'aes-256-gcm',
      Buffer.from(hkdfSync('sha256', cursorKey, Buffer.alloc(0), 'msgraph-user-gateway cursor encryption v2', 32)),
      iv,
    );
    const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    const encrypted = [iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
    for (const after of [signed, encrypted]) {
      for (const [gw, key] of [
        [issuer, ALPHA],
        [replica, BRAVO],
      ] as const) {
        const page = await gw.graphql<{ user: { directReports: { nodes: Array<{ id: string }> } } }>(REPORTS, { id: manager.id, after }, withKey(key));
        expect(page.errors).toBeUndefined();
        expect(page.data!.user.directReports.nodes).toEqual(expected);
      }
    }
  });
});
