import {
  getNamedType,
  isInterfaceType,
  isLeafType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { buildGatewaySchema } from '../../src/graphql/schema.js';
import { ALL_PERMISSIONS, Permission } from '../../src/permissions.js';
import { apiKeyCallers } from '../support/api-key-callers.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';
import { operationFor, type SampleValues } from '../support/schema-operations.js';

/**
 * An attacker holding one permission at a time, against a gateway in the production configuration
 * (federation on, introspection off) over real sockets: every root field, with everything beneath
 * it selected (each payload's `user { manager directReports authenticationMethods memberOf
 * ownedDevices }`, a manager's own relationships, the feed's users' relationships). What each
 * permission unlocks is written here from docs/security.md#permissions, not read from the SDL's
 * directives, so a field whose directive is missing or wrong shows up as a difference:
 *
 * - each root field needs the permission of the table below;
 * - a field that returns users (a `User` or a `UserConnection`) reads the live directory and needs
 *   `Users.Read`, except the users the delta feed itself carries (`UserChanges.users`/`changed`) and
 *   the nodes of a connection whose own field was already judged;
 * - authentication methods, memberships and devices need their own read permission.
 *
 * Every refusal names exactly the fields the caller may not use, each with its permission, and
 * Graph sees no request.
 */

const ROOT_PERMISSIONS: Record<string, Permission> = {
  'Query.user': Permission.UsersRead,
  'Query.users': Permission.UsersRead,
  'Query.me': Permission.UsersRead,
  'Query.userChanges': Permission.UsersReadChanges,
  'Query._entities': Permission.UsersRead,
  'Query._service': Permission.UsersRead,
  'Mutation.terminateSession': Permission.UsersTerminate,
  'Mutation.disableAccount': Permission.UsersTerminate,
  'Mutation.enableAccount': Permission.UsersTerminate,
  'Mutation.revokeSignInSessions': Permission.UsersTerminate,
  'Mutation.changePassword': Permission.UsersChangePassword,
  'Mutation.forceResetPassword': Permission.UsersChangePassword,
  'Mutation.changePasswordOnPremises': Permission.UsersChangePassword,
  'Mutation.createUser': Permission.UsersWrite,
  'Mutation.updateUser': Permission.UsersWrite,
  'Mutation.deleteUser': Permission.UsersWrite,
  'Mutation.assignManager': Permission.UsersWrite,
  'Mutation.removeManager': Permission.UsersWrite,
  'Mutation.deleteAuthenticationMethod': Permission.UsersManageAuthMethods,
  'Mutation.createTemporaryAccessPass': Permission.UsersManageAuthMethods,
  'Mutation.deleteTemporaryAccessPass': Permission.UsersManageAuthMethods,
};

const SENSITIVE_READS: Record<string, Permission> = {
  'User.authenticationMethods': Permission.UsersReadAuthMethods,
  'User.memberOf': Permission.UsersReadMemberships,
  'User.ownedDevices': Permission.UsersReadDevices,
};

/**
 * Root fields this gateway refuses at validation: Graph serves `/me` and the on-premises password
 * reset to delegated identities only (this one is app-only), and `_service` (the SDL) follows
 * INTROSPECTION, off here.
 */
const VALIDATION_REFUSALS: Record<string, string> = {
  'Query.me': 'UNSUPPORTED_GRAPH_IDENTITY',
  'Mutation.changePasswordOnPremises': 'UNSUPPORTED_GRAPH_IDENTITY',
  'Query._service': 'FORBIDDEN',
};

/** The one root field whose whole selection a single permission may use: its payload holds no user. */
const ALLOWED_WHOLE = `${Permission.UsersWrite} Mutation.deleteUser`;

/** Users the field hands out without a live read of its own: the feed's, and a judged connection's nodes. */
const CARRIED = new Set(['UserChanges.users', 'UserChanges.changed', 'UserConnection.nodes', 'UserEdge.node']);

/** The permission docs/security.md says a nested field needs, if any. */
function documentedNeed(parent: string, field: GraphQLField<unknown, unknown>): Permission | undefined {
  const coordinate = `${parent}.${field.name}`;
  if (SENSITIVE_READS[coordinate]) return SENSITIVE_READS[coordinate];
  const named = getNamedType(field.type).name;
  if ((named === 'User' || named === 'UserConnection') && !CARRIED.has(coordinate)) return Permission.UsersRead;
  return undefined;
}

/**
 * Everything beneath a field: every field of the type, the users under it one level deep (a user's
 * manager and reports, with their leaves and sensitive reads), `first: 1` on lists. Returns the
 * selection text and the documented needs of the nested fields it selects.
 */
function everythingUnder(type: GraphQLObjectType | GraphQLInterfaceType, usersLeft: number, needs: Map<string, Permission>): string {
  const parts: string[] = [];
  for (const field of Object.values(type.getFields())) {
    if (field.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
    const named = getNamedType(field.type);
    const args = field.args.some((a) => a.name === 'first') ? '(first: 1)' : '';
    if (isLeafType(named)) {
      parts.push(field.name);
      continue;
    }
    const isUsers = named.name === 'User' || named.name === 'UserConnection';
    if (isUsers && usersLeft === 0) continue;
    if (!isObjectType(named) && !isInterfaceType(named)) continue;
    const need = documentedNeed(type.name, field);
    if (need) needs.set(`${type.name}.${field.name}`, need);
    const below = everythingUnder(named, named.name === 'User' ? usersLeft - 1 : usersLeft, needs);
    parts.push(`${field.name}${args} { ${below} }`);
  }
  return parts.join(' ');
}

interface Attempt {
  coordinate: string;
  query: string;
  variables: Record<string, unknown>;
  /** Every guarded field the operation selects, with the permission docs/security.md gives it. */
  needs: Map<string, Permission>;
}

function attemptsOf(schema: GraphQLSchema, samples: SampleValues): Attempt[] {
  const attempts: Attempt[] = [];
  for (const root of [schema.getQueryType()!, schema.getMutationType()!]) {
    for (const field of Object.values(root.getFields())) {
      const coordinate = `${root.name}.${field.name}`;
      const needs = new Map<string, Permission>();
      if (ROOT_PERMISSIONS[coordinate]) needs.set(coordinate, ROOT_PERMISSIONS[coordinate]);
      const named = getNamedType(field.type);
      let selection = '';
      if (isObjectType(named) || isInterfaceType(named)) {
        selection = ` { ${everythingUnder(named, named.name === 'User' ? 1 : 2, needs)} }`;
      } else if (!isLeafType(named)) {
        // `_entities` returns the `_Entity` union: the User under it, like `user(id:)`.
        selection = ` { ... on User { ${everythingUnder(schema.getType('User') as GraphQLObjectType, 1, needs)} } }`;
      }
      const { query, variables } = operationFor(schema, root, field, samples, {
        selection,
        argument: (arg) => (arg.name === 'representations' ? [{ __typename: 'User', id: samples.userId }] : undefined),
      });
      attempts.push({ coordinate, query, variables, needs });
    }
  }
  return attempts;
}

const keyOf = (permission: Permission) => `single-${permission}-key-0123456789abcdef`;

let emulator: TestEmulator;
let gateway: TestGateway;
let target: UserRecord;
let attempts: Attempt[];

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 30 });
  gateway = await startTestGateway({
    emulator,
    env: {
      DEPLOYMENT_MODE: 'self-deployed',
      ...apiKeyCallers(Object.fromEntries(ALL_PERMISSIONS.map((p) => [p.replace('.', '-'), { key: keyOf(p), permissions: [p] }]))),
      NODE_ENV: 'production',
      INTROSPECTION: '',
      FEDERATION: 'true',
      LOG_LEVEL: 'warn',
      // A refusal here must be the permission's, not the budget's.
      MAX_UPSTREAM_REQUESTS: '5000',
    },
  });
  const known = emulator.tenant.wellKnown;
  target = [...emulator.tenant.users.values()].find((u) => u.managerId && u.authMethods.length > 1 && u.id !== known.adminUserId)!;
  attempts = attemptsOf(buildGatewaySchema({ federation: true }), { userId: target.id, domain: emulator.tenant.domain });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

/** The answer, the requests Graph and Entra received for it (`upstream`), and Graph's alone (`graph`). */
async function measured(key: string, body: Record<string, unknown>): Promise<{ result: GraphQLResult; upstream: number; graph: number }> {
  await emulator.resetStats();
  const res = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
  });
  const parsed = (await res.json()) as { data?: unknown; errors?: GraphQLResult['errors'] };
  const stats = await emulator.stats();
  return {
    result: { status: res.status, headers: res.headers, data: parsed.data as GraphQLResult['data'], errors: parsed.errors },
    upstream: stats.totalRequests,
    graph: stats.graphRequests,
  };
}

describe('the documented permission table', () => {
  it('names every root field of the schema', () => {
    const roots = attempts.map((a) => a.coordinate).sort();
    expect(roots).toEqual(Object.keys(ROOT_PERMISSIONS).sort());
  });
});

describe.each(ALL_PERMISSIONS.map((p) => [p]))('a caller holding only %s', (permission) => {
  it('selecting everything under each root field is refused for exactly the fields it may not use, and Graph sees nothing', async () => {
    let refused = 0;
    for (const attempt of attempts) {
      const missing = [...attempt.needs].filter(([, need]) => need !== permission).map(([coordinate, need]) => `${coordinate} needs ${need}`);
      if (missing.length === 0 && !VALIDATION_REFUSALS[attempt.coordinate]) {
        // Nothing beneath it is beyond this permission: it would really act, so it is not sent.
        expect(`${permission} ${attempt.coordinate}`).toBe(ALLOWED_WHOLE);
        continue;
      }
      const { result, upstream } = await measured(keyOf(permission), { query: attempt.query, variables: attempt.variables });
      const where = `${attempt.coordinate} as ${permission}: ${JSON.stringify(result.errors)}`;
      expect(upstream, where).toBe(0);
      expect(result.data ?? null, where).toBeNull();
      // Refused at validation, before permissions are looked at, whoever calls (their permission
      // refusals are pinned in test/graphql/authorization.test.ts and the federation tests).
      const early = VALIDATION_REFUSALS[attempt.coordinate];
      if (early) {
        expect(
          result.errors?.map((e) => e.extensions?.code),
          where,
        ).toEqual([early]);
        continue;
      }
      expect(result.status, where).toBe(403);
      expect(
        result.errors?.map((e) => e.extensions?.code),
        where,
      ).toEqual(['FORBIDDEN']);
      // The message lists each field and its permission (arrays do not travel in extensions).
      const named = result.errors![0]!.message.match(/\b\w+\.\w+ needs [\w.]+/g) ?? [];
      expect(named.sort(), where).toEqual(missing.sort());
      refused += 1;
    }
    const allowed = ALLOWED_WHOLE.startsWith(`${permission} `) ? 1 : 0;
    expect(refused).toBe(attempts.length - Object.keys(VALIDATION_REFUSALS).length - allowed);
  });
});

describe('what a selection needs beyond the root field', () => {
  it('a write permission plus Users.Read reads the payload user with manager and reports, never the sensitive reads', () => {
    const assign = attempts.find((a) => a.coordinate === 'Mutation.assignManager')!;
    expect(Object.fromEntries(assign.needs)).toEqual({
      'Mutation.assignManager': Permission.UsersWrite,
      'ManagerPayload.user': Permission.UsersRead,
      'User.manager': Permission.UsersRead,
      'User.directReports': Permission.UsersRead,
      'User.authenticationMethods': Permission.UsersReadAuthMethods,
      'User.memberOf': Permission.UsersReadMemberships,
      'User.ownedDevices': Permission.UsersReadDevices,
    });
  });

  it('the change feed carries its users; their relationships are live reads', () => {
    const feed = attempts.find((a) => a.coordinate === 'Query.userChanges')!;
    expect(feed.needs.get('UserChanges.users')).toBeUndefined();
    expect(feed.needs.get('User.manager')).toBe(Permission.UsersRead);
    expect(feed.needs.get('User.directReports')).toBe(Permission.UsersRead);
  });
});

/**
 * A caller holding a write permission learns, of each user it names, whether it exists: that is
 * what acting on a user by name answers, and createUser gives the same answer for a taken
 * userPrincipalName, as Graph does. It learns nothing more: no object id, no profile
 * (docs/security.md#what-a-write-permission-learns-about-the-users-it-names).
 */
describe('what Users.Write alone learns about a userPrincipalName it names', () => {
  const MISSING_USER = '00000000-0000-4000-8000-00000000dead';
  const assign = 'mutation($u: ID!, $m: ID!) { assignManager(input: { user: $u, manager: $m }) { requestId } }';

  it('whether it exists (assignManager names a missing user), as createUser answers for a taken name; nothing is written', async () => {
    const known = [...emulator.tenant.users.values()].find((u) => u.id !== target.id && u.id !== emulator.tenant.wellKnown.adminUserId)!;
    const unknownUpn = `nobody-${Date.now()}@${emulator.tenant.domain}`;
    const before = structuredClone(known);

    const exists = await measured(keyOf(Permission.UsersWrite), { query: assign, variables: { u: MISSING_USER, m: known.userPrincipalName } });
    const absent = await measured(keyOf(Permission.UsersWrite), { query: assign, variables: { u: MISSING_USER, m: unknownUpn } });
    expect(exists.result.errors?.map((e) => [e.extensions?.code, e.extensions?.argument])).toEqual([['NOT_FOUND', undefined]]);
    expect(absent.result.errors?.map((e) => [e.extensions?.code, e.extensions?.argument])).toEqual([['NOT_FOUND', 'manager']]);
    // The existing name is looked up, then the write is refused for the missing user.
    expect([exists.graph, absent.graph]).toEqual([2, 1]);
    // Existence only: neither answer holds the manager's object id or any of its properties.
    for (const { result } of [exists, absent]) {
      const text = JSON.stringify(result);
      for (const secret of [known.id, known.displayName, known.mail, known.mobilePhone].filter((v): v is string => typeof v === 'string' && v !== '')) {
        expect(text).not.toContain(secret);
      }
    }

    const create = 'mutation($i: CreateUserInput!) { createUser(input: $i) { requestId } }';
    const taken = await measured(keyOf(Permission.UsersWrite), {
      query: create,
      variables: { i: { userPrincipalName: known.userPrincipalName, displayName: 'Probe', mailNickname: 'probe', password: 'Str0ng!Passw0rd-probe' } },
    });
    expect(taken.result.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(taken.result.errors![0]!.message).toContain('userPrincipalName already exists');

    // None of the three changed the named user.
    const after = emulator.tenant.users.get(known.id)!;
    expect({ managerId: after.managerId, displayName: after.displayName }).toEqual({ managerId: before.managerId, displayName: before.displayName });
  });
});
