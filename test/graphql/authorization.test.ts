import { graphql, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, loadConfig } from '../../src/config.js';
import type { UserRecord } from '../../src/emulator/model.js';
import { requiredGraphIdentity } from '../../src/graphql/graph-identity/index.js';
import { assertPermissionDirectives, requiredPermission, withPermissionGuards } from '../../src/graphql/permissions/index.js';
import { buildGatewaySchema, loadSchemaSource } from '../../src/graphql/schema.js';
import { ALL_PERMISSIONS } from '../../src/permissions.js';
import { appCallerToken, decodeJwtPayload } from '../identity/support.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';
import { operationFor, rootFields } from '../support/schema-operations.js';

/**
 * Reads are authorized like writes: every root field names the gateway permission it needs, and so
 * do the User fields that reveal more than a profile. A valid token or key alone reads nothing, in
 * particular a role-less app-only token that any app of the tenant can get for the gateway's API
 * (Entra issues those unless the API's enterprise app requires assignment: docs/security.md#permissions).
 * Refusals happen before execution: Graph sees no request.
 */

let emulator: TestEmulator;
let entra: TestGateway;
let keys: TestGateway;
let sandbox: TestGateway;
let schema: GraphQLSchema;
let rolelessToken: string;
let target: UserRecord;

const KEY = {
  changePasswordOnly: 'key-change-password-only-0123456789',
  defaultList: 'key-without-permission-list-0123456789',
  terminateOnly: 'key-terminate-only-0123456789',
  everything: 'key-every-permission-0123456789',
};

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
  const env = { DEPLOYMENT_MODE: 'self-deployed' };
  entra = await startTestGateway({ emulator, env: { ...env, CALLER_AUTH: 'entra', API_AUDIENCE: 'api://msgraph-user-gateway' } });
  keys = await startTestGateway({
    emulator,
    env: {
      ...env,
      CALLER_AUTH: 'api-key',
      API_KEYS: [
        `pw:${hashApiKey(KEY.changePasswordOnly)}:Users.ChangePassword`,
        `plain:${hashApiKey(KEY.defaultList)}`,
        `term:${hashApiKey(KEY.terminateOnly)}:Users.Terminate`,
        `all:${hashApiKey(KEY.everything)}:${ALL_PERMISSIONS.join('+')}`,
      ].join(','),
    },
  });
  sandbox = await startTestGateway({ emulator, env });
  schema = buildGatewaySchema();
  // An app of the tenant that was never given a role of the gateway's API (the read-only Graph app).
  const known = emulator.tenant.wellKnown;
  rolelessToken = await appCallerToken(emulator, known.readOnlyAppId, known.readOnlyAppSecret);
  target = [...emulator.tenant.users.values()].find(
    (u) => u.accountEnabled && u.userType === 'Member' && u._directoryRoles.length === 0 && u.id !== known.adminUserId && u.authMethods.length > 1,
  )!;
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await keys?.close();
  await entra?.close();
  await emulator?.close();
});

/** The answer and how many Graph requests it cost. */
async function measured<T>(gw: TestGateway, call: () => Promise<GraphQLResult<T>>): Promise<{ result: GraphQLResult<T>; graphRequests: number }> {
  await emulator.resetStats();
  const result = await call();
  return { result, graphRequests: (await emulator.stats()).graphRequests };
}

const withKey = (key: string) => ({ 'x-api-key': key });
const withToken = (token: string) => ({ authorization: `Bearer ${token}` });

function expectForbidden(result: GraphQLResult, ...needs: string[]) {
  expect(result.status, JSON.stringify(result.errors)).toBe(403);
  expect(result.data ?? null).toBeNull();
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0]!.extensions?.code).toBe('FORBIDDEN');
  for (const need of needs) expect(result.errors![0]!.message).toContain(need);
}

describe('a caller holding no gateway permission', () => {
  it('is what Entra issues to any app of the tenant that asks: a valid token for the API without roles', () => {
    const claims = decodeJwtPayload(rolelessToken);
    expect(claims.aud).toBe('api://msgraph-user-gateway');
    expect(claims.roles ?? []).toEqual([]);
  });

  it('gets FORBIDDEN for every root field of the schema, and Graph sees nothing', async () => {
    const fields = rootFields(schema);
    expect(fields.map((f) => `${f.rootType.name}.${f.field.name}`)).toEqual(
      expect.arrayContaining(['Query.users', 'Query.userChanges', 'Mutation.changePassword']),
    );
    for (const { rootType, field } of fields) {
      const coordinate = `${rootType.name}.${field.name}`;
      const { query, variables } = operationFor(schema, rootType, field, { userId: target.id, domain: emulator.tenant.domain });
      const { result, graphRequests } = await measured(entra, () => entra.graphql(query, variables, withToken(rolelessToken)));
      // This gateway's Graph identity is app-only: a field Graph serves only to a signed-in user is
      // refused earlier, at validation, whoever calls (docs/mutations.md#how-requests-are-checked).
      if (requiredGraphIdentity(field, schema) === 'delegated') {
        expect(
          result.errors?.map((e) => e.extensions?.code),
          coordinate,
        ).toEqual(['UNSUPPORTED_GRAPH_IDENTITY']);
        expect(graphRequests, coordinate).toBe(0);
        continue;
      }
      expect(result.errors?.[0]?.extensions?.code, `${coordinate}: ${JSON.stringify(result.errors)}`).toBe('FORBIDDEN');
      expectForbidden(result, `${coordinate} needs ${requiredPermission(field, schema)}`);
      expect(graphRequests, coordinate).toBe(0);
    }
  });

  it('still introspects (introspection follows INTROSPECTION, not permissions)', async () => {
    const result = await entra.graphql('{ __typename __schema { queryType { name } } }', undefined, withToken(rolelessToken));
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ __typename: 'Query', __schema: { queryType: { name: 'Query' } } });
  });
});

describe('an API key holding only Users.ChangePassword', () => {
  const reads: Array<[string, string, string]> = [
    ['the user list', '{ users(first: 50) { nodes { id displayName mobilePhone } } }', 'Query.users needs Users.Read'],
    ['one user', 'query($id: ID!) { user(id: $id) { id displayName } }', 'Query.user needs Users.Read'],
    ['the change feed', '{ userChanges { changed { id } nextDeltaToken } }', 'Query.userChanges needs Users.ReadChanges'],
    [
      'phone numbers through an alias and a fragment',
      'query($id: ID!) { u: user(id: $id) { ...M } } fragment M on User { authenticationMethods { id } }',
      'User.authenticationMethods needs Users.ReadAuthMethods',
    ],
  ];
  for (const [what, query, needs] of reads) {
    it(`cannot read ${what}`, async () => {
      const { result, graphRequests } = await measured(keys, () => keys.graphql(query, { id: target.id }, withKey(KEY.changePasswordOnly)));
      expectForbidden(result, needs);
      expect(graphRequests).toBe(0);
    });
  }
});

describe('an API key listing no permissions', () => {
  it('holds Users.Read only (the documented default)', () => {
    const config = loadConfig({ CALLER_AUTH: 'api-key', API_KEYS: `plain:${hashApiKey(KEY.defaultList)}` });
    const entry = config.callerAuth.mode === 'api-key' ? config.callerAuth.keys[0] : undefined;
    expect([...(entry?.permissions ?? [])]).toEqual(['Users.Read']);
  });

  it('reads profiles, manager and reports', async () => {
    const result = await keys.graphql(
      'query($id: ID!) { user(id: $id) { id displayName manager { id } directReports(first: 2) { nodes { id } } } }',
      { id: target.id },
      withKey(KEY.defaultList),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.user?.id).toBe(target.id);
  });

  const sensitive: Array<[string, string, string]> = [
    ['authentication methods', 'authenticationMethods { id type }', 'User.authenticationMethods needs Users.ReadAuthMethods'],
    ['group memberships', 'memberOf(first: 5) { nodes { id displayName } }', 'User.memberOf needs Users.ReadMemberships'],
    ['owned devices', 'ownedDevices(first: 5) { nodes { id operatingSystem } }', 'User.ownedDevices needs Users.ReadDevices'],
  ];
  for (const [what, selection, needs] of sensitive) {
    it(`cannot read ${what}, even beside allowed fields, and nothing is fetched`, async () => {
      const { result, graphRequests } = await measured(keys, () =>
        keys.graphql(`query($id: ID!) { user(id: $id) { id displayName ${selection} } }`, { id: target.id }, withKey(KEY.defaultList)),
      );
      expectForbidden(result, needs);
      expect(graphRequests).toBe(0);
    });
  }

  it('cannot read the change feed', async () => {
    const { result, graphRequests } = await measured(keys, () => keys.graphql('{ userChanges { nextDeltaToken } }', undefined, withKey(KEY.defaultList)));
    expectForbidden(result, 'Query.userChanges needs Users.ReadChanges');
    expect(graphRequests).toBe(0);
  });
});

describe('the user a mutation returns', () => {
  it('needs Users.Read: a key with only Users.Terminate may act, but not read the profile back', async () => {
    const refused = await measured(keys, () =>
      keys.graphql(
        'mutation($u: ID!) { enableAccount(input: { user: $u }) { accountEnabled user { displayName mobilePhone } } }',
        { u: target.id },
        withKey(KEY.terminateOnly),
      ),
    );
    expectForbidden(refused.result, 'AccountStatusPayload.user needs Users.Read');
    expect(refused.graphRequests).toBe(0);
    const allowed = await keys.graphql(
      'mutation($u: ID!) { enableAccount(input: { user: $u }) { accountEnabled } }',
      { u: target.id },
      withKey(KEY.terminateOnly),
    );
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data?.enableAccount?.accountEnabled).toBe(true);
  });
});

describe('callers that hold the permissions', () => {
  const everything = `query($id: ID!) {
    user(id: $id) { id authenticationMethods { id } memberOf(first: 5) { nodes { id } } ownedDevices(first: 5) { nodes { id } } }
    userChanges { nextDeltaToken }
  }`;

  it('an API key with every permission reads everything', async () => {
    const result = await keys.graphql(everything, { id: target.id }, withKey(KEY.everything));
    expect(result.errors).toBeUndefined();
    expect(result.data?.user?.authenticationMethods.length).toBeGreaterThan(0);
    expect(typeof result.data?.userChanges?.nextDeltaToken).toBe('string');
  });

  it('an Entra app holding every app role reads everything', async () => {
    const known = emulator.tenant.wellKnown;
    const token = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
    const result = await entra.graphql(everything, { id: target.id }, withToken(token));
    expect(result.errors).toBeUndefined();
  });

  it('CALLER_AUTH=none (loopback sandbox) keeps every permission', async () => {
    const result = await sandbox.graphql(everything, { id: target.id });
    expect(result.errors).toBeUndefined();
    expect(result.data?.user?.id).toBe(target.id);
  });
});

describe('the schema declares who may use each entry point', () => {
  it('every root field names a permission; a new one without it stops the start', () => {
    expect(() => assertPermissionDirectives(schema)).not.toThrow();
    const leaky = buildGatewaySchema({ typeDefs: `${loadSchemaSource()}\nextend type Query {\n  "A field nobody guarded."\n  everyone: [User!]!\n}\n` });
    expect(() => assertPermissionDirectives(leaky)).toThrow(/Query\.everyone declares no @requiresPermission/);
  });

  it('each guarded resolver checks the caller itself, whoever runs the schema', async () => {
    const guarded = withPermissionGuards(schema);
    for (const field of Object.values(guarded.getQueryType()!.getFields())) {
      const { query, variables } = operationFor(guarded, guarded.getQueryType()!, field, { userId: target.id, domain: emulator.tenant.domain });
      // No loaders, no Graph client in this context: only the guard can answer.
      const result = await graphql({ schema: guarded, source: query, variableValues: variables, contextValue: { caller: { permissions: new Set() } } });
      expect(result.errors?.[0]?.extensions?.code, field.name).toBe('FORBIDDEN');
      expect(result.errors?.[0]?.path).toEqual([field.name]);
    }
  });
});
