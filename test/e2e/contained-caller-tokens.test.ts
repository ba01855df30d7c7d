import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@keyv/redis';
import { startApp, type App } from '../../src/app.js';
import { CALLER_REVOKED_KEY_PREFIX } from '../../src/identity/caller-revocations.js';
import { appCallerToken, decodeJwtPayload, userCallerToken } from '../identity/support.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';

/**
 * A responder contains a user through the gateway (docs/security.md#contained-users-caller-tokens).
 * Entra revokes the user's refresh tokens and sessions but leaves the access tokens it already issued
 * valid until they expire (about an hour): before, a stolen caller token of the contained user kept
 * working against the gateway for that long. Now the gateway refuses the user's tokens issued before
 * the containment, at once, on every replica sharing Redis (or a SQLite file); a token of a new sign-in works. The
 * production configuration, CALLER_AUTH=entra, over real sockets against the emulator's Entra.
 */
const APP_ID_URI = 'api://msgraph-user-gateway';

/** A production gateway that takes the emulator's Entra caller tokens, on `env`'s cache, logging into `lines`. */
function startEntraCallerApp(emulator: TestEmulator, env: Record<string, string>, lines: string[], level: 'info' | 'warn'): Promise<App> {
  return startApp(
    loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      CALLER_AUTH: 'entra',
      API_AUDIENCE: `${APP_ID_URI},${emulator.tenant.wellKnown.demoAppId}`,
      ...env,
    }),
    { emulator, logger: capturingLogger(lines, level) },
  );
}
const skipRedis = redisSkipReason();

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function graphql(app: App, token: string, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

function aPlainMember(emulator: TestEmulator, skip: number) {
  const known = emulator.tenant.wellKnown;
  return [...emulator.tenant.users.values()].filter((u) => u.userType !== 'Guest' && u.accountEnabled && u.id !== known.adminUserId)[skip]!;
}

const READ = 'query($id: ID!) { user(id: $id) { id } }';
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100 - (Date.now() % 1_000)));

describe.skipIf(!!skipRedis)("a contained user's caller tokens, on two replicas sharing Redis", () => {
  let emulator: TestEmulator;
  let redis: TestRedis;
  let a: App;
  let b: App;
  const logLines: string[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 20 });
    redis = await startTestRedis();
    const start = () =>
      startEntraCallerApp(
        emulator,
        { CACHE_URL: redis.url, TOKEN_CACHE_KEY: 'contained caller tokens test token cache key', AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_WINDOW_SECONDS: '60' },
        logLines,
        'info',
      );
    a = await start();
    b = await start();
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
    await emulator?.close();
  });

  it('refuses the token at once on both replicas after terminateSession, not as a guess; a token of a new sign-in works', async () => {
    const known = emulator.tenant.wellKnown;
    const victim = aPlainMember(emulator, 0);
    const stolen = await userCallerToken(emulator, victim.userPrincipalName, victim._password);
    const responder = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
    expect(decodeJwtPayload(responder).roles).toContain('Users.Terminate');

    for (const app of [a, b]) {
      const before = await graphql(app, stolen, READ, { id: victim.id });
      expect(before.status).toBe(200);
      expect(before.body.errors).toBeUndefined();
    }

    // Contained by userPrincipalName: the object id its tokens carry comes from the read that rides in
    // the write's own $batch (is the user external?), so the containment costs one Graph request.
    const requestsBefore = (await emulator.stats()).graphRequests;
    const contained = await graphql(a, responder, 'mutation($u: ID!) { terminateSession(input: { user: $u }) { succeeded } }', {
      u: victim.userPrincipalName,
    });
    expect(contained.body.errors).toBeUndefined();
    expect(contained.body.data).toEqual({ terminateSession: { succeeded: true } });
    expect((await emulator.stats()).graphRequests - requestsBefore).toBe(1);

    // More refusals than AUTH_FAILURE_LIMIT: a genuine token is not a guess, so the address is never throttled.
    for (const app of [a, b, a, b, a]) {
      const after = await graphql(app, stolen, READ, { id: victim.id });
      expect(after.status).toBe(401);
      expect(after.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(after.body.errors?.[0]?.message).toMatch(/issued before this user's sessions were revoked through the gateway/);
      expect(after.body.data ?? null).toBeNull();
    }
    // The responder (an app-only token) and other users are untouched.
    const other = aPlainMember(emulator, 1);
    expect((await graphql(b, await userCallerToken(emulator, other.userPrincipalName, other._password), READ, { id: other.id })).status).toBe(200);

    // The record in Redis names neither the tenant nor the user, and goes after a day and a minute.
    const client = createClient({ url: redis.url });
    await client.connect();
    const keys = await client.keys(`${CALLER_REVOKED_KEY_PREFIX}*`);
    const ttl = keys[0] ? await client.pTTL(keys[0]) : undefined;
    await client.close();
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(victim.id);
    expect(keys[0]).not.toContain(emulator.tenantId);
    expect(ttl).toBeGreaterThan(24 * 3600_000);
    expect(ttl).toBeLessThanOrEqual(24 * 3600_000 + 60_000);

    // Re-enabled; a new sign-in (a second later: `iat` has whole seconds) gets a token both replicas accept.
    const enabled = await graphql(b, responder, 'mutation($u: ID!) { enableAccount(input: { user: $u }) { accountEnabled } }', { u: victim.id });
    expect(enabled.body.errors).toBeUndefined();
    await nextSecond();
    const fresh = await userCallerToken(emulator, victim.userPrincipalName, victim._password);
    for (const app of [a, b]) expect((await graphql(app, fresh, READ, { id: victim.id })).status).toBe(200);
    // The old one is still refused.
    expect((await graphql(b, stolen, READ, { id: victim.id })).status).toBe(401);

    const records = logRecordsOf(logLines);
    // The audit event says the containment was recorded (in Redis, for both replicas); enableAccount's says nothing of it.
    const audited = (operation: string) => records.filter((r) => r.audit === true && r.operation === operation);
    expect(audited('terminateSession').map((r) => [r.outcome, r.containment])).toEqual([['succeeded', 'recorded']]);
    expect(audited('enableAccount').map((r) => [r.outcome, r.containment])).toEqual([['succeeded', undefined]]);
    const failures = records.filter((r) => r.msg === 'caller authentication failed' && r.reason === 'bearer_token_of_contained_user');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(records.some((r) => r.reason === 'throttled')).toBe(false);
    // No token in any line (audit events included).
    for (const token of [stolen, responder, fresh]) expect(logLines.join('\n')).not.toContain(token.split('.')[2]!);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_authentication_failures_total\{reason="bearer_token_of_contained_user"\} [1-9]/);
  }, 60_000);

  it('disableAccount and revokeSignInSessions by object id contain as well', async () => {
    const known = emulator.tenant.wellKnown;
    const responder = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
    for (const [skip, mutation] of [
      [2, 'mutation($u: ID!) { disableAccount(input: { user: $u }) { accountEnabled } }'],
      [3, 'mutation($u: ID!) { revokeSignInSessions(input: { user: $u }) { revoked } }'],
    ] as const) {
      const victim = aPlainMember(emulator, skip);
      const stolen = await userCallerToken(emulator, victim.userPrincipalName, victim._password);
      expect((await graphql(b, stolen, READ, { id: victim.id })).status).toBe(200);
      const done = await graphql(b, responder, mutation, { u: victim.id.toUpperCase() });
      expect(done.body.errors).toBeUndefined();
      expect((await graphql(a, stolen, READ, { id: victim.id })).status).toBe(401);
    }
  }, 60_000);
  // Last: it stops Redis.
  it('while Redis does not answer: the replica that recorded still refuses, the other fails open and says so once', async () => {
    const known = emulator.tenant.wellKnown;
    const responder = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
    const victim = aPlainMember(emulator, 4);
    const stolen = await userCallerToken(emulator, victim.userPrincipalName, victim._password);
    const done = await graphql(a, responder, 'mutation($u: ID!) { revokeSignInSessions(input: { user: $u }) { revoked } }', { u: victim.id });
    expect(done.body.errors).toBeUndefined();
    await redis.stop();
    expect((await graphql(a, stolen, READ, { id: victim.id })).status).toBe(401);
    for (let i = 0; i < 3; i += 1) expect((await graphql(b, stolen, READ, { id: victim.id })).status).toBe(200);
    const warnings = logRecordsOf(logLines).filter((r) => typeof r.msg === 'string' && r.msg.startsWith('containment records could not be read from Redis'));
    // One line per replica and outage (a reads too: its own record does not spare it the read).
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(2);

    // A containment while Redis does not answer: its audit event says only this replica refuses.
    const next = aPlainMember(emulator, 5);
    const nextStolen = await userCallerToken(emulator, next.userPrincipalName, next._password);
    const unshared = await graphql(a, responder, 'mutation($u: ID!) { revokeSignInSessions(input: { user: $u }) { revoked } }', { u: next.id });
    expect(unshared.body.errors).toBeUndefined();
    const events = logRecordsOf(logLines).filter((r) => r.audit === true && r.operation === 'revokeSignInSessions' && r.targetUser === next.id);
    expect(events.map((r) => r.containment)).toEqual(['this-process-only']);
    expect((await graphql(a, nextStolen, READ, { id: next.id })).status).toBe(401);
    expect((await graphql(b, nextStolen, READ, { id: next.id })).status).toBe(200);
  }, 60_000);
});

describe('with the memory cache: the containment holds in the process that made it', () => {
  let emulator: TestEmulator;
  let app: App;

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 10 });
    app = await startEntraCallerApp(emulator, {}, [], 'warn');
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await emulator?.close();
  });

  it('refuses the token issued before changePassword, accepts the one issued after', async () => {
    const known = emulator.tenant.wellKnown;
    const victim = aPlainMember(emulator, 0);
    const stolen = await userCallerToken(emulator, victim.userPrincipalName, victim._password);
    const responder = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
    expect((await graphql(app, stolen, READ, { id: victim.id })).status).toBe(200);
    const password = 'Contained-Pa55word-0123!';
    const changed = await graphql(
      app,
      responder,
      'mutation($u: ID!, $pw: String!) { changePassword(input: { user: $u, password: $pw, forceChangePasswordNextSignIn: false }) { forceChangePasswordNextSignIn } }',
      { u: victim.userPrincipalName, pw: password },
    );
    expect(changed.body.errors).toBeUndefined();
    const refused = await graphql(app, stolen, READ, { id: victim.id });
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await nextSecond();
    const fresh = await userCallerToken(emulator, victim.userPrincipalName, password);
    expect((await graphql(app, fresh, READ, { id: victim.id })).status).toBe(200);
  }, 60_000);
});

describe('two processes sharing a SQLite CACHE_URL', () => {
  let emulator: TestEmulator;
  let a: App;
  let b: App;
  let dir: string;

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 10 });
    dir = mkdtempSync(path.join(tmpdir(), 'mgug-contained-'));
    const start = () =>
      startEntraCallerApp(
        emulator,
        { CACHE_URL: `sqlite://${path.join(dir, 'cache.sqlite')}`, TOKEN_CACHE_KEY: 'contained caller tokens test token cache key' },
        [],
        'warn',
      );
    a = await start();
    b = await start();
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a containment on one is enforced by the other', async () => {
    const known = emulator.tenant.wellKnown;
    const victim = aPlainMember(emulator, 0);
    const stolen = await userCallerToken(emulator, victim.userPrincipalName, victim._password);
    const responder = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
    expect((await graphql(b, stolen, READ, { id: victim.id })).status).toBe(200);
    const done = await graphql(a, responder, 'mutation($u: ID!) { revokeSignInSessions(input: { user: $u }) { revoked } }', { u: victim.id });
    expect(done.body.errors).toBeUndefined();
    expect((await graphql(b, stolen, READ, { id: victim.id })).status).toBe(401);
    await nextSecond();
    const fresh = await userCallerToken(emulator, victim.userPrincipalName, victim._password);
    expect((await graphql(b, fresh, READ, { id: victim.id })).status).toBe(200);
  }, 60_000);
});

describe('a gateway composed by the test harness (test/support/gateway.ts)', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    const emulator = await startTestEmulator({ userCount: 10 });
    gateway = await startTestGateway({
      emulator,
      env: { CALLER_AUTH: 'entra', API_AUDIENCE: `${APP_ID_URI},${emulator.tenant.wellKnown.demoAppId}` },
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await gateway?.emulator.close();
  });

  // Before, the harness composed caller authentication without the containment records, so a test
  // through it saw a contained user's earlier token still accepted, unlike production.
  it('refuses a contained user’s earlier token, as src/app.ts’s composition does', async () => {
    const { emulator } = gateway;
    const known = emulator.tenant.wellKnown;
    const victim = aPlainMember(emulator, 0);
    const stolen = { authorization: `Bearer ${await userCallerToken(emulator, victim.userPrincipalName, victim._password)}` };
    const responder = { authorization: `Bearer ${await appCallerToken(emulator, known.callerAppId, known.callerAppSecret)}` };
    expect((await gateway.graphql(READ, { id: victim.id }, stolen)).status).toBe(200);
    const done = await gateway.graphql('mutation($u: ID!) { revokeSignInSessions(input: { user: $u }) { revoked } }', { u: victim.id }, responder);
    expect(done.errors).toBeUndefined();
    const refused = await gateway.graphql(READ, { id: victim.id }, stolen);
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The memory cache: recorded in this process, which is where this gateway keeps the records.
    expect(gateway.logRecords('audit revokeSignInSessions succeeded').map((r) => r.containment)).toEqual(['recorded']);
  }, 60_000);
});
