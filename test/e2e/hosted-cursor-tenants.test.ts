import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config-types.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * Two hosted gateways, one per customer of a hosting provider: customer A's (the emulator's
 * well-known broker registration) and customer B's (a registration of its own), deployed from one
 * template with one CURSOR_KEY, each with an API key named `reader` (different keys). Before, a
 * cursor or delta token was bound to the caller's name only, so B's `reader` could replay what A's
 * `reader` was handed (found in a shared log pipeline, a ticket): B's gateway opened it and sent A's
 * Graph link, `$filter`, `$skiptoken` or `$deltatoken` included, to Graph under B's identity. Now a
 * token is also bound to the Graph identity that issued it (docs/security.md#cursors-and-change-feed-tokens):
 * B's gateway refuses it like a forged one, and Graph sees nothing. Production configuration, real sockets.
 */
const A_READER = 'customer-a-reader-key-0123456789abcdef';
const B_READER = 'customer-b-reader-key-0123456789abcdef';
const PAGE = 'query($after: String) { users(first: 2, after: $after) { nodes { id } pageInfo { endCursor } } }';
const CHANGES = 'query($t: String) { userChanges(deltaToken: $t) { complete nextDeltaToken } }';
type Page = { users: { nodes: Array<{ id: string }>; pageInfo: { endCursor: string } } };
type Changes = { userChanges: { complete: boolean; nextDeltaToken: string } };

let emulator: TestEmulator;
let gatewayA: TestGateway;
let gatewayB: TestGateway;
const cursorKey = randomBytes(32);

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 12 });
  // Customer B's consent: a registration of its own (id, key) at the same broker.
  const bRegistration = { id: randomUUID(), token: emulator.tenantId, key: randomBytes(32).toString('base64'), appId: emulator.tenant.wellKnown.hostedAppId };
  emulator.tenant.brokerRegistrations.set(bRegistration.id, bRegistration);
  const env = (key: string) => ({
    NODE_ENV: 'production',
    INTROSPECTION: '',
    DEPLOYMENT_MODE: 'hosted',
    ...apiKeyCallers({ reader: { key, permissions: ['Users.Read', 'Users.ReadChanges'] } }),
  });
  [gatewayA, gatewayB] = await Promise.all([
    startTestGateway({ emulator, env: env(A_READER), deps: { cursorKey } }),
    startTestGateway({
      emulator,
      env: env(B_READER),
      deps: { cursorKey: Buffer.from(cursorKey) },
      configure: (config) => ({
        ...config,
        hosted: { ...config.hosted!, registrationId: bRegistration.id, key: new Secret(bRegistration.key), token: new Secret(bRegistration.token) },
      }),
    }),
  ]);
  expect(gatewayA.config.hosted!.registrationId).not.toBe(gatewayB.config.hosted!.registrationId);
}, 60_000);

afterAll(async () => {
  await Promise.all([gatewayA?.close(), gatewayB?.close()]);
  await emulator?.close();
});

async function measured<T>(call: () => Promise<GraphQLResult<T>>): Promise<{ result: GraphQLResult<T>; graphRequests: number }> {
  await emulator.resetStats();
  const result = await call();
  return { result, graphRequests: (await emulator.stats()).graphRequests };
}

describe("a hosted gateway replaying another customer's tokens (one CURSOR_KEY, same API key name)", () => {
  it("refuses customer A's page cursor at customer B's gateway, without a Graph request", async () => {
    const first = await gatewayA.graphql<Page>(PAGE, {}, { 'x-api-key': A_READER });
    expect(first.errors).toBeUndefined();
    const cursor = first.data!.users.pageInfo.endCursor;
    // A's own caller continues it, on A's gateway.
    expect((await gatewayA.graphql<Page>(PAGE, { after: cursor }, { 'x-api-key': A_READER })).errors).toBeUndefined();

    const { result, graphRequests } = await measured(() => gatewayB.graphql(PAGE, { after: cursor }, { 'x-api-key': B_READER }));
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toContain('is not a cursor this gateway issued for this list');
    expect(graphRequests).toBe(0);
  });

  it("refuses customer A's delta token at customer B's gateway, without a Graph request", async () => {
    let token: string | undefined;
    for (let round = 0; round < 10; round++) {
      const answer = await gatewayA.graphql<Changes>(CHANGES, token ? { t: token } : {}, { 'x-api-key': A_READER });
      expect(answer.errors).toBeUndefined();
      token = answer.data!.userChanges.nextDeltaToken;
      if (answer.data!.userChanges.complete) break;
    }
    const { result, graphRequests } = await measured(() => gatewayB.graphql(CHANGES, { t: token }, { 'x-api-key': B_READER }));
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'DELTA_TOKEN_UNKNOWN' });
    expect(graphRequests).toBe(0);
    // B's own tokens work on B's gateway.
    const own = await gatewayB.graphql<Changes>(CHANGES, {}, { 'x-api-key': B_READER });
    expect(own.errors).toBeUndefined();
  });
});
