import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';

/** Filters, search, ordering, relationships, the change feed and the non-GraphQL routes, end to end. */
let gw: TestGateway;
let users: UserRecord[];

beforeAll(async () => {
  gw = await startTestGateway();
  users = [...gw.emulator.tenant.users.values()];
});
afterAll(async () => {
  await gw?.close();
});

async function allPages(query: string, variables: Record<string, unknown> = {}): Promise<Array<Record<string, any>>> {
  const out: Array<Record<string, any>> = [];
  let after: string | null = null;
  for (let page = 0; page < 20; page += 1) {
    const result: GraphQLResult = await gw.graphql(query, { ...variables, after });
    expect(result.errors).toBeUndefined();
    out.push(...result.data!.users.nodes);
    if (!result.data!.users.pageInfo.hasNextPage) return out;
    after = result.data!.users.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

describe('filters', () => {
  it('filters by department and enabled state, escaping apostrophes in values', async () => {
    const expected = users
      .filter((u) => u.department === 'Engineering' && u.accountEnabled)
      .map((u) => u.id)
      .sort();
    const got = await allPages(
      'query($after: String) { users(first: 999, after: $after, filter: { department: "Engineering", accountEnabled: true }) { nodes { id } pageInfo { hasNextPage endCursor } } }',
    );
    expect(got.map((u) => u.id).sort()).toEqual(expected);
    const apostrophe = users.find((u) => u.surname?.includes("'"))!;
    const prefix = apostrophe.displayName.slice(0, apostrophe.displayName.indexOf("'") + 2);
    const result = await gw.graphql('query($p: String) { users(first: 999, filter: { displayNameStartsWith: $p }) { nodes { id displayName } } }', {
      p: prefix,
    });
    expect(result.errors).toBeUndefined();
    const names = result.data!.users.nodes.map((u: { displayName: string }) => u.displayName);
    expect(names).toContain(apostrophe.displayName);
    expect(names.every((n: string) => n.startsWith(prefix))).toBe(true);
  });

  it('compiles or / not / ids and counts an advanced query', async () => {
    const picked = users.slice(10, 13);
    const result = await gw.graphql(
      `query($ids: [ID!]) { users(first: 50, filter: { or: [{ ids: $ids }, { department: "Legal", not: { accountEnabled: true } }] }) { totalCount nodes { id department accountEnabled } } }`,
      { ids: picked.map((u) => u.id) },
    );
    expect(result.errors).toBeUndefined();
    const expected = users.filter((u) => picked.includes(u) || (u.department === 'Legal' && !u.accountEnabled));
    expect(result.data!.users.totalCount).toBe(expected.length);
    expect(result.data!.users.nodes.map((u: { id: string }) => u.id).sort()).toEqual(expected.map((u) => u.id).sort());
    const plan = gw.logRecords('graph query plan').at(-1)!.graphPlan;
    expect(plan.advanced).toBe(true);
    expect(plan.filter).toContain('not (');
  });

  // Graph documents `not` on one property clause (aad-advanced-queries); the emulator refuses it over a group,
  // so `not` over several conditions goes out with the negation on each (docs/graph-facts.md#listing-users).
  it('`not` over several conditions answers the complement, sent as `not` on single conditions', async () => {
    const result = await gw.graphql(
      `{ users(first: 999, filter: { not: { department: "Legal", or: [{ accountEnabled: false }, { jobTitle: "Engineer" }] } }) { totalCount nodes { id } } }`,
    );
    expect(result.errors).toBeUndefined();
    const expected = users.filter((u) => !(u.department === 'Legal' && (!u.accountEnabled || u.jobTitle === 'Engineer')));
    expect(result.data!.users.totalCount).toBe(expected.length);
    expect(result.data!.users.nodes.map((u: { id: string }) => u.id).sort()).toEqual(expected.map((u) => u.id).sort());
    const plan = gw.logRecords('graph query plan').at(-1)!.graphPlan;
    expect(plan.filter).toBe("((not (department eq 'Legal')) or (((not (accountEnabled eq false)) and (not (jobTitle eq 'Engineer')))))");
  });

  it('filters on createdDateTime ranges', async () => {
    const sorted = [...users].sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime));
    const from = sorted[100]!.createdDateTime;
    const to = sorted[120]!.createdDateTime;
    const result = await gw.graphql(
      'query($a: DateTime, $b: DateTime) { users(first: 999, filter: { createdAfter: $a, createdBefore: $b }) { nodes { id } } }',
      { a: from, b: to },
    );
    expect(result.errors).toBeUndefined();
    const expected = users.filter((u) => Date.parse(u.createdDateTime) >= Date.parse(from) && Date.parse(u.createdDateTime) <= Date.parse(to));
    expect(result.data!.users.nodes).toHaveLength(expected.length);
  });

  // aad-advanced-queries ties `not` to `eq` and never negates a range; the emulator refuses `not` over ge/le
  // (the stricter reading), the other reading would answer. The gateway refuses it itself, before any request,
  // so the caller gets the same answer from either (docs/graph-facts.md#listing-users, "`not`").
  it('regression: `not` over createdAfter/createdBefore is BAD_USER_INPUT before anything is sent; the opposite bound beside another negation still goes', async () => {
    const plans = () => gw.logRecords('graph query plan').length;
    for (const filter of ['{ not: { createdAfter: "2020-01-01T00:00:00Z" } }', '{ not: { department: "Legal", createdBefore: "2020-01-01T00:00:00Z" } }']) {
      const before = plans();
      const refused = await gw.graphql(`{ users(first: 5, filter: ${filter}) { nodes { id } } }`);
      expect(refused.errors?.[0]?.extensions?.code, filter).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.message).toMatch(/cannot negate `createdAfter` or `createdBefore`/);
      expect(plans(), filter).toBe(before);
    }
    const opposite = await gw.graphql('{ users(first: 5, filter: { createdBefore: "2020-01-01T00:00:00Z", not: { department: "Legal" } }) { nodes { id } } }');
    expect(opposite.errors).toBeUndefined();
  });
});

describe('search and ordering', () => {
  it('maps search to $search and finds users by display name token', async () => {
    const target = users.find((u) => u.userType === 'Member' && u.givenName === 'Adele') ?? users[5]!;
    const word = target.givenName!;
    const result = await gw.graphql('query($t: String) { users(first: 100, search: { displayName: $t }) { nodes { displayName } } }', { t: word });
    expect(result.errors).toBeUndefined();
    const names: string[] = result.data!.users.nodes.map((u: { displayName: string }) => u.displayName);
    expect(names).toContain(target.displayName);
    expect(names.every((n) => n.toLowerCase().includes(word.toLowerCase()))).toBe(true);
    expect(gw.logRecords('graph query plan').at(-1)!.graphPlan).toMatchObject({ search: `"displayName:${word}"`, advanced: true });
  });

  it('orders by displayName descending', async () => {
    const result = await gw.graphql('{ users(first: 20, orderBy: { field: DISPLAY_NAME, direction: DESC }) { nodes { displayName } } }');
    expect(result.errors).toBeUndefined();
    const names: string[] = result.data!.users.nodes.map((u: { displayName: string }) => u.displayName);
    const expected = users
      .map((u) => u.displayName)
      .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))
      .slice(0, 20);
    expect(names.map((n) => n.toLowerCase())).toEqual(expected.map((n) => n.toLowerCase()));
  });
});

describe('user relationships', () => {
  const managerWithReports = () => users.find((u) => users.filter((r) => r.managerId === u.id).length >= 5)!;

  it('pages direct reports with edge cursors, resuming mid-page', async () => {
    const manager = managerWithReports();
    const all = users
      .filter((r) => r.managerId === manager.id)
      .map((r) => r.id)
      .sort();
    const firstPage = await gw.graphql(
      `{ user(id: "${manager.userPrincipalName}") { directReports(first: 2) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`,
    );
    expect(firstPage.errors).toBeUndefined();
    const connection = firstPage.data!.user.directReports;
    expect(connection.edges).toHaveLength(2);
    expect(connection.pageInfo.hasNextPage).toBe(true);
    const seen: string[] = connection.edges.map((e: { node: { id: string } }) => e.node.id);
    let after = connection.pageInfo.endCursor;
    for (let i = 0; i < 20 && after; i += 1) {
      const next = await gw.graphql(
        'query($id: ID!, $after: String) { user(id: $id) { directReports(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }',
        {
          id: manager.id,
          after,
        },
      );
      expect(next.errors).toBeUndefined();
      seen.push(...next.data!.user.directReports.nodes.map((n: { id: string }) => n.id));
      after = next.data!.user.directReports.pageInfo.hasNextPage ? next.data!.user.directReports.pageInfo.endCursor : null;
    }
    expect(seen.sort()).toEqual(all);
    // Resuming after the first edge (mid-page) continues with the second.
    const fromEdge = await gw.graphql('query($id: ID!, $after: String) { user(id: $id) { directReports(first: 1, after: $after) { nodes { id } } } }', {
      id: manager.id,
      after: connection.edges[0].cursor,
    });
    expect(fromEdge.data!.user.directReports.nodes[0].id).toBe(connection.edges[1].node.id);
  });

  it('lists groups, devices and authentication methods by type', async () => {
    const person = users.find((u) => u.ownedDevices.length > 0 && u.memberOf.length > 1 && u.authMethods.some((m) => m.type === 'phone'))!;
    const result = await gw.graphql(`{
      user(id: "${person.id}") {
        memberOf(first: 50) { totalCount nodes { id displayName securityEnabled groupTypes } }
        ownedDevices(first: 10) { nodes { id displayName operatingSystem } }
        all: authenticationMethods { __typename id type }
        phones: authenticationMethods(type: PHONE) { ... on PhoneAuthenticationMethod { phoneNumber phoneType } type }
      }
    }`);
    expect(result.errors).toBeUndefined();
    const user = result.data!.user;
    expect(user.memberOf.nodes.map((g: { id: string }) => g.id).sort()).toEqual([...person.memberOf].sort());
    expect(user.memberOf.totalCount).toBe(person.memberOf.length);
    expect(user.ownedDevices.nodes.map((d: { id: string }) => d.id).sort()).toEqual([...person.ownedDevices].sort());
    expect(user.all.map((m: { id: string }) => m.id).sort()).toEqual(person.authMethods.map((m) => m.id).sort());
    expect(user.all.find((m: { type: string }) => m.type === 'PASSWORD').__typename).toBe('PasswordAuthenticationMethod');
    const phones = person.authMethods.filter((m) => m.type === 'phone');
    expect(user.phones).toHaveLength(phones.length);
    expect(user.phones.every((p: { type: string; phoneNumber: string }) => p.type === 'PHONE' && typeof p.phoneNumber === 'string')).toBe(true);
  });

  it('looks users up by UPN, including service accounts and guests', async () => {
    const special = users.filter((u) => u.userPrincipalName.startsWith('$') || u.userPrincipalName.includes('#EXT#')).slice(0, 2);
    expect(special.length).toBeGreaterThan(0);
    for (const u of special) {
      const result = await gw.graphql('query($id: ID!) { user(id: $id) { id userPrincipalName } }', { id: u.userPrincipalName });
      expect(result.errors).toBeUndefined();
      expect(result.data!.user).toEqual({ id: u.id, userPrincipalName: u.userPrincipalName });
    }
  });
});

describe('lookups by id and by userPrincipalName together', () => {
  // Graph refuses a getByIds holding anything but GUIDs, whole request (docs/graph-facts.md#manager-and-bulk-lookup):
  // the gateway sends the object ids there and the userPrincipalNames as GETs, so every alias resolves.
  it('sends only the object ids to getByIds; the userPrincipalNames go as GETs in $batch', async () => {
    const [a, b, c, d] = users.filter((u) => u.userType === 'Member');
    await gw.emulator.resetStats();
    const result = await gw.graphql(
      `{ a: user(id: "${a!.id}") { id } b: user(id: "${b!.id.toUpperCase()}") { id } c: user(id: "${c!.userPrincipalName}") { id } d: user(id: "${d!.userPrincipalName}") { id } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ a: { id: a!.id }, b: { id: b!.id }, c: { id: c!.id }, d: { id: d!.id } });
    const stats = await gw.emulator.stats();
    expect(stats.byRoute['POST /v1.0/directoryObjects/getByIds']).toBe(1);
    expect(stats.batch.itemsByRoute).toEqual({ 'GET /v1.0/users/{id}': 2 });
  });
});

describe('change feed', () => {
  it('syncs everything, then returns only what changed, with removals', async () => {
    const initial = await gw.graphql('{ userChanges { kind complete users { id displayName } changed { id } removed { id reason } nextDeltaToken } }');
    expect(initial.errors).toBeUndefined();
    expect(initial.data!.userChanges).toMatchObject({ kind: 'FULL_SYNC', complete: true, changed: [] });
    expect(initial.data!.userChanges.users.length).toBe(gw.emulator.tenant.users.size);
    const token = initial.data!.userChanges.nextDeltaToken;

    const quiet = await gw.graphql(
      'query($t: String) { userChanges(deltaToken: $t) { kind complete users { id } changed { id displayName } removed { id } nextDeltaToken } }',
      { t: token },
    );
    expect(quiet.errors).toBeUndefined();
    expect(quiet.data!.userChanges).toMatchObject({ kind: 'CHANGES', complete: true, users: [] });
    expect(quiet.data!.userChanges.changed).toEqual([]);
    expect(quiet.data!.userChanges.removed).toEqual([]);

    // A different selection cannot ride on a token that tracks fewer properties.
    const wider = await gw.graphql('query($t: String) { userChanges(deltaToken: $t) { changed { id jobTitle } nextDeltaToken } }', { t: token });
    expect(wider.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });
});

describe('routes', () => {
  it('serves the SDL with descriptions and the deployment directive', async () => {
    const res = await fetch(`${gw.url}/schema.graphql`);
    expect(res.status).toBe(200);
    const sdl = await res.text();
    expect(sdl).toContain('directive @deployment');
    expect(sdl).toContain('type UserConnection');
    expect(sdl).toContain('"""');
  });

  it('answers /healthz, /readyz (identity probe) and /metrics', async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    await gw.graphql('{ users(first: 1) { nodes { id } } }');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_operation_duration_seconds_count\{operation_type="query",outcome="success"\} [1-9]/);
  });

  it('logs one line per operation with name, type, outcome and correlation id, never variables', async () => {
    await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'corr-log-test-1' },
      body: JSON.stringify({ query: 'query Lookup($id: ID!) { user(id: $id) { id } }', variables: { id: 'secret-looking-value@contoso.example' } }),
    });
    const line = gw.logRecords('graphql operation').find((r) => r.correlationId === 'corr-log-test-1')!;
    expect(line).toMatchObject({ operationName: 'Lookup', operationType: 'query', outcome: 'success' });
    expect(typeof line.durationMs).toBe('number');
    expect(gw.logLines.join('')).not.toContain('secret-looking-value');
  });

  it('leaves a long operation name out of the log: a name is one token, and could be as long as the body allows', async () => {
    const name = `N${'x'.repeat(200_000)}`;
    await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'corr-log-test-2' },
      body: JSON.stringify({ query: `query ${name} { __typename }` }),
    });
    const line = gw.logRecords('graphql operation').find((r) => r.correlationId === 'corr-log-test-2')!;
    expect(line.operationName).toBeNull();
  });

  it('serves the playground page to browsers on GET /graphql, with a CSP and local assets only', async () => {
    const res = await fetch(`${gw.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThanOrEqual(5);
    for (const source of sources) {
      expect(source.startsWith('/playground/assets/')).toBe(true);
      const asset = await fetch(`${gw.url}${source}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
  });
});
