import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config-types.js';
import { registerApp } from '../../src/emulator/apps.js';
import { createBulkLookupRoute } from '../../src/graph/bulk-lookup-route.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * Lookups by object id with an app that holds User.Read.All but not Directory.Read.All: Graph
 * refuses `POST /directoryObjects/getByIds` (403 Authorization_RequestDenied) and serves
 * `GET /users/{id}` (docs/graph-facts.md#manager-and-bulk-lookup). The gateway answers the same
 * through `$batch` of GETs, learns it once per Graph identity, and never asks getByIds again for
 * it. Upstream requests are counted at the emulator.
 */
let emulator: TestEmulator;
let full: TestGateway;
const readOnly: Record<'coalesced' | 'perOperation', TestGateway | undefined> = { coalesced: undefined, perOperation: undefined };

const MISSING = '00000000-0000-4000-8000-00000000dead';

/** A gateway acting as a new app registration holding User.Read.All only (its own token partition). */
function readOnlyGateway(env: Record<string, string>): Promise<TestGateway> {
  const app = registerApp(emulator.tenant, { displayName: 'reader without Directory.Read.All', graphAppRoles: ['User.Read.All'] });
  return startTestGateway({
    emulator,
    env,
    configure: (config) => ({
      ...config,
      selfDeployed: {
        ...config.selfDeployed!,
        clientId: app.appId,
        credential: { kind: 'secret', secret: new Secret(app.secrets[0]!) },
      },
    }),
  });
}

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 200 });
  full = await startTestGateway({ emulator });
  // With cross-request coalescing (the default) and without it (each operation's own loader).
  readOnly.coalesced = await readOnlyGateway({});
  readOnly.perOperation = await readOnlyGateway({ COALESCE_WINDOW_MS: '0' });
}, 60_000);
afterAll(async () => {
  await readOnly.coalesced?.close();
  await readOnly.perOperation?.close();
  await full?.close();
  await emulator?.close();
});

const ids = () => [...emulator.tenant.users.values()].slice(10, 40).map((u) => u.id);
const lookups = (list: string[]) => `{ ${list.map((id, i) => `u${i}: user(id: "${id}") { id displayName jobTitle }`).join(' ')} }`;

describe.each(['coalesced', 'perOperation'] as const)('an app with User.Read.All only (%s lookups)', (kind) => {
  it('30 lookups by id: one refused getByIds, then 2 $batch POSTs; the same answers as getByIds gives, a missing id is null', async () => {
    const gw = readOnly[kind]!;
    const list = [...ids(), MISSING];
    const expected = await full.graphql(lookups(list));
    expect(expected.errors).toBeUndefined();

    await emulator.resetStats();
    const first = await gw.graphql(lookups(list));
    expect(first.errors).toBeUndefined();
    expect(first.data).toEqual(expected.data);
    expect(first.data![`u${list.length - 1}`]).toBeNull();
    const stats = await emulator.stats();
    expect(stats.byRoute['POST /v1.0/directoryObjects/getByIds']).toBe(1);
    expect(stats.batch).toMatchObject({ requests: 2, items: 31 });
    expect(stats.graphRequests).toBe(3);

    // Remembered for this Graph identity: straight to $batch.
    await emulator.resetStats();
    const again = await gw.graphql(lookups(list.slice(0, 25)));
    expect(again.errors).toBeUndefined();
    const later = await emulator.stats();
    expect(later.byRoute['POST /v1.0/directoryObjects/getByIds']).toBeUndefined();
    expect(later.graphRequests).toBe(2);
  });
});

describe('an app with Directory.Read.All', () => {
  it('30 lookups by id cost one getByIds', async () => {
    await emulator.resetStats();
    const r = await full.graphql(lookups(ids()));
    expect(r.errors).toBeUndefined();
    const stats = await emulator.stats();
    expect(stats.byRoute['POST /v1.0/directoryObjects/getByIds']).toBe(1);
    expect(stats.graphRequests).toBe(1);
  });
});

describe('the upstream budget of an app with User.Read.All only', () => {
  const KEY = 'bulk-route-reader-key-0123456789abcdef';
  let federated: TestGateway | undefined;
  beforeAll(async () => {
    // Production configuration, a subgraph (`_entities` carries up to 1000 references), budget 20.
    federated = await readOnlyGateway({
      ...apiKeyCallers({ reader: { key: KEY, permissions: ['Users.Read'] } }),
      NODE_ENV: 'production',
      INTROSPECTION: '',
      FEDERATION: 'true',
      LOG_LEVEL: 'warn',
      MAX_UPSTREAM_REQUESTS: '20',
    });
  }, 60_000);
  afterAll(async () => {
    await federated?.close();
  });

  const references = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ __typename: 'User', id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }));
  const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { displayName } } }';

  it('counts lookups by id as $batch POSTs of 20 once getByIds refused the identity: 500 references are refused, 400 cost 20', async () => {
    const gw = federated!;
    // The first lookups by id learn that getByIds is refused to this identity.
    const learn = await gw.graphql(lookups(ids().slice(0, 2)), undefined, { 'x-api-key': KEY });
    expect(learn.errors).toBeUndefined();
    // 500 references: 25 `$batch` POSTs. Before, estimated as one getByIds (1 request) and sent.
    await emulator.resetStats();
    const refused = await gw.graphql(ENTITIES, { r: references(500) }, { 'x-api-key': KEY });
    expect(refused.status).toBe(400);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', estimatedUpstreamRequests: 25, budget: 20 });
    expect((await emulator.stats()).graphRequests).toBe(0);
    // 400 references: 20 POSTs, as estimated.
    const served = await gw.graphql(ENTITIES, { r: references(400) }, { 'x-api-key': KEY });
    expect(served.errors).toBeUndefined();
    expect(served.data!._entities).toHaveLength(400);
    expect((await emulator.stats()).graphRequests).toBe(20);
  });
});

describe('the route memory', () => {
  it('is per partition and lapses after its time, so a permission granted later is used', () => {
    let now = 0;
    const route = createBulkLookupRoute({ ttlMs: 1000, now: () => now });
    route.refuseGetByIds('a');
    expect(route.usesBatch('a')).toBe(true);
    expect(route.usesBatch('b')).toBe(false);
    now = 999;
    expect(route.usesBatch('a')).toBe(true);
    now = 1000;
    expect(route.usesBatch('a')).toBe(false);
  });

  it('holds a bounded number of partitions, forgetting the oldest', () => {
    const route = createBulkLookupRoute({ maxPartitions: 2 });
    route.refuseGetByIds('a');
    route.refuseGetByIds('b');
    route.refuseGetByIds('c');
    expect([route.usesBatch('a'), route.usesBatch('b'), route.usesBatch('c')]).toEqual([false, true, true]);
  });
});
