import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';

/**
 * Attempts of a low credential to reach what it may not, against gateways in the production
 * configuration (NODE_ENV=production, introspection off, federation on) over real sockets: each is
 * refused before execution and Graph sees no request (docs/security.md#permissions,
 * docs/mutations.md#how-requests-are-checked). The permission walk is static on purpose, so a field
 * switched off by a variable still counts as selected.
 */

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const KEY = {
  reader: 'attempts-reader-key-0123456789abcdef',
  changes: 'attempts-changes-key-0123456789abcdef',
  changesAndRead: 'attempts-changes-read-key-0123456789abcdef',
};
const API_KEYS = [
  `reader:${sha256(KEY.reader)}:Users.Read`,
  `changes:${sha256(KEY.changes)}:Users.ReadChanges`,
  `sync:${sha256(KEY.changesAndRead)}:Users.ReadChanges+Users.Read`,
].join(',');

let emulator: TestEmulator;
let selfDeployed: TestGateway;
let hosted: TestGateway;
let target: UserRecord;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 30 });
  // A budget that fits a manager per user of this tenant, so a refusal here is the permission's
  // doing, not the budget's (which would hide a field the permission let through).
  const env = {
    CALLER_AUTH: 'api-key',
    API_KEYS,
    NODE_ENV: 'production',
    INTROSPECTION: '',
    FEDERATION: 'true',
    LOG_LEVEL: 'warn',
    MAX_UPSTREAM_REQUESTS: '400',
  };
  selfDeployed = await startTestGateway({ emulator, env: { ...env, DEPLOYMENT_MODE: 'self-deployed' } });
  hosted = await startTestGateway({ emulator, env: { ...env, DEPLOYMENT_MODE: 'hosted' } });
  target = [...emulator.tenant.users.values()].find((u) => u.authMethods.length > 1 && u.id !== emulator.tenant.wellKnown.adminUserId)!;
}, 60_000);

afterAll(async () => {
  await hosted?.close();
  await selfDeployed?.close();
  await emulator?.close();
});

/** The answer and how many requests Graph and Entra received for it. */
async function measured(gw: TestGateway, key: string, body: Record<string, unknown>): Promise<{ result: GraphQLResult; upstream: number }> {
  await emulator.resetStats();
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
  });
  const parsed = (await res.json()) as { data?: unknown; errors?: GraphQLResult['errors'] };
  const result = { status: res.status, headers: res.headers, data: parsed.data as GraphQLResult['data'], errors: parsed.errors };
  return { result, upstream: (await emulator.stats()).totalRequests };
}

function expectRefused({ result, upstream }: { result: GraphQLResult; upstream: number }, status: number, code: string, text: string): void {
  expect(result.status, JSON.stringify(result.errors)).toBe(status);
  expect(result.data ?? null).toBeNull();
  expect(result.errors?.map((e) => e.extensions?.code)).toEqual([code]);
  expect(result.errors![0]!.message).toContain(text);
  expect(upstream).toBe(0);
}

describe('a field switched off by a variable still counts as selected', () => {
  it.each([
    ['@include(if: $v) with $v false', 'authenticationMethods @include(if: $v) { id }', false],
    ['@skip(if: $v) with $v true', 'authenticationMethods @skip(if: $v) { id }', true],
    ['an inline fragment under @include(if: $v)', '... @include(if: $v) { authenticationMethods { id } }', false],
    ['a named fragment spread under @include(if: $v)', '...Methods @include(if: $v)', false],
  ])('%s: a Users.Read key is refused before anything reaches Graph', async (_how, selection, v) => {
    const fragment = selection.includes('...Methods') ? ' fragment Methods on User { m: authenticationMethods { id } }' : '';
    const query = `query($id: ID!, $v: Boolean!) { user(id: $id) { id ${selection} } }${fragment}`;
    expectRefused(
      await measured(selfDeployed, KEY.reader, { query, variables: { id: target.id, v } }),
      403,
      'FORBIDDEN',
      'User.authenticationMethods needs Users.ReadAuthMethods',
    );
  });
});

describe('a document of several operations', () => {
  const document = `query Profile($id: ID!) { user(id: $id) { id } }
    query Methods($id: ID!) { user(id: $id) { authenticationMethods { id } } }`;

  it('is judged by the operation it runs: the one named is refused for its own fields', async () => {
    expectRefused(
      await measured(selfDeployed, KEY.reader, { query: document, operationName: 'Methods', variables: { id: target.id } }),
      403,
      'FORBIDDEN',
      'User.authenticationMethods needs Users.ReadAuthMethods',
    );
  });

  it('runs the allowed operation, and nothing of the other is executed', async () => {
    const { result } = await measured(selfDeployed, KEY.reader, { query: document, operationName: 'Profile', variables: { id: target.id } });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ user: { id: target.id } });
  });

  it('in hosted mode is refused whole when any operation selects a self-deployed-only mutation, even when a query is named', async () => {
    const mixed = `query Profile($id: ID!) { user(id: $id) { id } }
      mutation Contain($id: ID!) { disableAccount(input: {user: $id}) { accountEnabled } }`;
    expectRefused(
      await measured(hosted, KEY.reader, { query: mixed, operationName: 'Profile', variables: { id: target.id } }),
      400,
      'UNSUPPORTED_DEPLOYMENT_MODE',
      'Mutation.disableAccount needs the gateway to run in self-deployed mode',
    );
  });
});

describe('the change feed', () => {
  it.each([
    ['authenticationMethods', '{ userChanges { users { id authenticationMethods { id } } } }', 'User.authenticationMethods needs Users.ReadAuthMethods'],
    ['memberOf', '{ userChanges { changed { id memberOf { nodes { id } } } } }', 'User.memberOf needs Users.ReadMemberships'],
    ['ownedDevices', '{ userChanges { users { id ... on User { ownedDevices { nodes { id } } } } } }', 'User.ownedDevices needs Users.ReadDevices'],
  ])('reaches no guarded User field (%s) with Users.ReadChanges alone', async (_field, query, text) => {
    expectRefused(await measured(selfDeployed, KEY.changes, { query }), 403, 'FORBIDDEN', text);
  });

  // The feed carries the users' own properties (Graph's delta pages); a manager or the reports are
  // live reads of the directory, which Users.Read guards wherever they are selected.
  const MANAGER = 'User.manager needs Users.Read';
  const REPORTS = 'User.directReports needs Users.Read';
  it.each([
    ['manager', '{ userChanges { users { id manager { id displayName } } } }', [MANAGER]],
    ['directReports', '{ userChanges { changed { id directReports(first: 5) { nodes { id } } } } }', [REPORTS]],
    ['manager through an alias', '{ feed: userChanges { users { id boss: manager { id } } } }', [MANAGER]],
    ['manager through a named fragment', '{ userChanges { users { ...Boss } } } fragment Boss on User { manager { id } }', [MANAGER]],
    ['reports through an inline fragment', '{ userChanges { changed { ... on User { directReports { nodes { id } } } } } }', [REPORTS]],
    [
      'both through fragments spreading fragments',
      '{ userChanges { users { ...A } } } fragment A on User { ...B } fragment B on User { manager { manager { id } } directReports { edges { node { id } } } }',
      [MANAGER, REPORTS],
    ],
  ])('reaches no live relationship (%s) with Users.ReadChanges alone, and Graph sees nothing', async (_how, query, texts) => {
    const answer = await measured(selfDeployed, KEY.changes, { query });
    expectRefused(answer, 403, 'FORBIDDEN', texts[0]!);
    for (const text of texts) expect(answer.result.errors![0]!.message).toContain(text);
  });

  it.each([
    ['@include(if: $v) with $v false', 'manager @include(if: $v) { id }', false],
    ['@skip(if: $v) with $v true', 'directReports @skip(if: $v) { nodes { id } }', true],
    ['an inline fragment under @skip(if: $v)', '... @skip(if: $v) { manager { id } }', true],
  ])('reaches no live relationship switched off by a variable (%s) with Users.ReadChanges alone', async (_how, selection, v) => {
    const query = `query($v: Boolean!) { userChanges { users { id ${selection} } } }`;
    expectRefused(await measured(selfDeployed, KEY.changes, { query, variables: { v } }), 403, 'FORBIDDEN', 'needs Users.Read');
  });

  it('serves what the feed carries with Users.ReadChanges alone: the users, removals and token', async () => {
    const query =
      '{ userChanges { kind complete users { id displayName userPrincipalName accountEnabled } changed { id } removed { id reason } nextDeltaToken } }';
    const { result, upstream } = await measured(selfDeployed, KEY.changes, { query });
    expect(result.errors).toBeUndefined();
    const feed = (result.data as { userChanges: { kind: string; users: Array<{ id: string }> } }).userChanges;
    expect(feed.kind).toBe('FULL_SYNC');
    expect(feed.users.map((u) => u.id)).toContain(target.id);
    // The delta pages, and nothing per user.
    expect(upstream).toBeGreaterThan(0);
    expect(upstream).toBeLessThanOrEqual(3);
  });

  it('serves managers and reports in the feed to a caller that also holds Users.Read', async () => {
    const query = '{ userChanges { users { id manager { id } directReports(first: 1) { nodes { id } } } } }';
    const { result } = await measured(selfDeployed, KEY.changesAndRead, { query });
    expect(result.errors).toBeUndefined();
    const users = (result.data as { userChanges: { users: Array<{ id: string; manager: { id: string } | null }> } }).userChanges.users;
    const withManager = users.find((u) => emulator.tenant.users.get(u.id)?.managerId);
    expect(withManager?.manager?.id).toBe(emulator.tenant.users.get(withManager!.id)!.managerId);
  });

  it('is no way to _entities, which needs Users.Read', async () => {
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }';
    expectRefused(
      await measured(selfDeployed, KEY.changes, { query, variables: { r: [{ __typename: 'User', id: target.id }] } }),
      403,
      'FORBIDDEN',
      'Query._entities needs Users.Read',
    );
  });
});
