import { Writable } from 'node:stream';
import { Response } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import type { GraphDirectoryObject, GraphLoaders } from '../../src/graph/api.js';
import { createGraphClient } from '../../src/graph/client.js';
import { createGraphLoaders } from '../../src/graph/loaders.js';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/http/upstream.js';
import type { GraphTokenSource } from '../../src/identity/types.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { demoAppGraphToken } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * `memberOf`, `ownedDevices` and `authenticationMethods` of many parents go through DataLoaders over
 * the shared `$batch` queue: N parents cost ceil(N / 20) `$batch` POSTs per field (fewer when
 * fields share POSTs), counted by the emulator over real sockets.
 */
let gw: TestGateway;
let users: UserRecord[];
let http: UpstreamHttp;
let tokenSource: GraphTokenSource;

const MEMBER_OF = 'GET /v1.0/users/{id}/memberOf';
const OWNED_DEVICES = 'GET /v1.0/users/{id}/ownedDevices';

beforeAll(async () => {
  gw = await startTestGateway();
  users = [...gw.emulator.tenant.users.values()];
  // Warm the Graph token so token requests do not blur the counts below.
  await gw.graphql('{ users(first: 1) { nodes { id } } }');
  http = createUpstreamHttp({ extraCaPem: [gw.emulator.caCertPem] });
  const emulator = gw.emulator;
  const token = await demoAppGraphToken(emulator);
  tokenSource = { partition: 'relationship-batching', getAccessToken: async () => token };
}, 60_000);
afterAll(async () => {
  await http?.close();
  await gw?.close();
});
beforeEach(async () => {
  await gw.emulator.resetStats();
});

const groupName = (id: string) => gw.emulator.tenant.groups.get(id)?.displayName;
const record = (id: string) => gw.emulator.tenant.users.get(id)!;

/** Loaders over a client of their own, optionally through an upstream that rewrites answers. */
function directLoaders(upstream: UpstreamHttp = http): GraphLoaders {
  const quiet = new Writable({ write: (_chunk, _encoding, cb) => cb() });
  const client = createGraphClient({
    upstream,
    tokenSource,
    graphEndpoint: gw.emulator.graphEndpoint,
    logger: createLogger({ level: 'silent', destination: quiet }),
    metrics: createMetrics({ defaultMetrics: false }),
    correlationId: 'relationship-batching',
  });
  return createGraphLoaders(client);
}

describe('relationship fields of many parents share $batch POSTs', () => {
  it('lists 100 users with memberOf(first: 5) in 1 + ceil(100 / 20) = 6 requests', async () => {
    const result = await gw.graphql('{ users(first: 100) { nodes { id memberOf(first: 5) { nodes { displayName } } } } }');
    expect(result.errors).toBeUndefined();
    const nodes = result.data!.users.nodes as Array<{ id: string; memberOf: { nodes: Array<{ displayName: string }> } }>;
    expect(nodes).toHaveLength(100);
    let withGroups = 0;
    for (const node of nodes) {
      const expected = record(node.id).memberOf.map(groupName);
      const got = node.memberOf.nodes.map((g) => g.displayName);
      expect(got).toHaveLength(Math.min(5, expected.length));
      for (const name of got) expect(expected).toContain(name);
      if (got.length > 0) withGroups += 1;
    }
    expect(withGroups).toBeGreaterThan(10);

    const stats = await gw.emulator.stats();
    expect(stats.graphRequests).toBe(6);
    expect(stats.batch.requests).toBe(5);
    expect(stats.batch.itemsByRoute[MEMBER_OF]).toBe(100);
    expect(stats.byRoute[MEMBER_OF] ?? 0).toBe(0);
  });

  it('puts memberOf, ownedDevices and authenticationMethods of 100 users into 1 + ceil(300 / 20) = 16 requests', async () => {
    const result = await gw.graphql(`{ users(first: 100) { nodes {
      id
      memberOf(first: 50) { nodes { id } }
      ownedDevices(first: 10) { nodes { id } }
      authenticationMethods { id type }
    } } }`);
    expect(result.errors).toBeUndefined();
    const nodes = result.data!.users.nodes as Array<{
      id: string;
      memberOf: { nodes: Array<{ id: string }> };
      ownedDevices: { nodes: Array<{ id: string }> };
      authenticationMethods: Array<{ id: string; type: string }>;
    }>;
    expect(nodes).toHaveLength(100);
    for (const node of nodes) {
      const user = record(node.id);
      expect(node.memberOf.nodes.map((g) => g.id).sort()).toEqual([...user.memberOf].sort());
      expect(node.ownedDevices.nodes.map((d) => d.id).sort()).toEqual([...user.ownedDevices].slice(0, 10).sort());
      expect(node.authenticationMethods.map((m) => m.id).sort()).toEqual(user.authMethods.map((m) => m.id).sort());
    }
    expect(nodes.some((n) => n.ownedDevices.nodes.length > 0)).toBe(true);

    const stats = await gw.emulator.stats();
    expect(stats.graphRequests).toBe(16);
    expect(stats.batch.requests).toBe(15);
    expect(stats.batch.items).toBe(300);
    expect(stats.batch.itemsByRoute[MEMBER_OF]).toBe(100);
    expect(stats.batch.itemsByRoute[OWNED_DEVICES]).toBe(100);
  });

  it('answers authenticationMethods(type:) with that kind only, batched with the other fields', async () => {
    const result = await gw.graphql(`{ users(first: 10) { nodes {
      id
      memberOf(first: 2) { nodes { id } }
      phones: authenticationMethods(type: PHONE) { id type ... on PhoneAuthenticationMethod { phoneNumber } }
      all: authenticationMethods { id }
    } } }`);
    expect(result.errors).toBeUndefined();
    const nodes = result.data!.users.nodes as Array<{
      id: string;
      phones: Array<{ id: string; type: string; phoneNumber: string }>;
      all: Array<{ id: string }>;
    }>;
    for (const node of nodes) {
      const methods = record(node.id).authMethods;
      expect(node.phones.map((m) => m.id).sort()).toEqual(
        methods
          .filter((m) => m.type === 'phone')
          .map((m) => m.id)
          .sort(),
      );
      for (const phone of node.phones) expect(phone.type).toBe('PHONE');
      expect(node.all).toHaveLength(methods.length);
    }
    const stats = await gw.emulator.stats();
    // 1 list + 30 items (10 memberOf, 10 phoneMethods, 10 methods) in ceil(30 / 20) = 2 POSTs.
    expect(stats.graphRequests).toBe(3);
    expect(stats.batch.items).toBe(30);
  });

  it("memberOf shows groups only: the directory roles Graph lists among a user's memberships (user-list-memberof) are left out", async () => {
    const admin = users.find((u) => u._directoryRoles.length > 0 && u.memberOf.length > 0)!;
    const result = await gw.graphql(`{ user(id: "${admin.id}") { memberOf(first: 50) { nodes { id displayName } } } }`);
    expect(result.errors).toBeUndefined();
    const nodes = result.data!.user.memberOf.nodes as Array<{ id: string; displayName: string }>;
    expect(nodes.map((g) => g.id).sort()).toEqual([...admin.memberOf].sort());
    expect(nodes.map((g) => g.displayName)).not.toContain(admin._directoryRoles[0]);
  });

  it('sends identical relationship lookups upstream once; another page size is another request', async () => {
    const target = users.find((u) => u.memberOf.length > 2)!;
    const result = await gw.graphql(`{
      a: user(id: "${target.id}") { memberOf(first: 5) { nodes { id } } }
      b: user(id: "${target.id}") { memberOf(first: 5) { nodes { id } } }
      c: user(id: "${target.id}") { memberOf(first: 2) { nodes { id } } }
    }`);
    expect(result.errors).toBeUndefined();
    expect(result.data!.a).toEqual(result.data!.b);
    expect(result.data!.c.memberOf.nodes).toHaveLength(2);
    const stats = await gw.emulator.stats();
    // One user lookup, then one $batch with two memberOf items (top 5 and top 2).
    expect(stats.graphRequests).toBe(2);
    expect(stats.batch.itemsByRoute[MEMBER_OF]).toBe(2);
  });

  it('takes later pages through the cursor path: one plain request for that user', async () => {
    const target = users.find((u) => u.memberOf.length >= 3)!;
    const first = await gw.graphql(`{ user(id: "${target.id}") { memberOf(first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } } }`);
    expect(first.errors).toBeUndefined();
    const page1 = first.data!.user.memberOf;
    expect(page1.pageInfo.hasNextPage).toBe(true);

    await gw.emulator.resetStats();
    const second = await gw.graphql(`query($after: String) { user(id: "${target.id}") { memberOf(first: 1, after: $after) { nodes { id } } } }`, {
      after: page1.pageInfo.endCursor,
    });
    expect(second.errors).toBeUndefined();
    const page2 = second.data!.user.memberOf.nodes as Array<{ id: string }>;
    expect(page2).toHaveLength(1);
    expect(page2[0]!.id).not.toBe(page1.nodes[0].id);
    expect(target.memberOf).toContain(page2[0]!.id);
    const stats = await gw.emulator.stats();
    expect(stats.graphRequests).toBe(2);
    expect(stats.byRoute[MEMBER_OF]).toBe(1);
    expect(stats.batch.requests).toBe(0);
  });
});

describe('relationship loaders', () => {
  it('keeps per-key failures as values: a missing user and an unaddressable id fail alone', async () => {
    const loaders = directLoaders();
    const present = users.find((u) => u.memberOf.length > 0 && u.ownedDevices.length > 0)!;
    const missing = '00000000-0000-4000-8000-00000000dead';
    const [found, notFound, unaddressable] = await loaders.membershipsOf.loadMany([
      { key: present.id, select: ['displayName'], top: 10 },
      { key: missing, select: ['displayName'], top: 10 },
      { key: 'a..b@contoso.com', select: ['displayName'], top: 10 },
    ]);
    expect(found).not.toBeInstanceOf(Error);
    expect((found as { items: Array<{ id: string }> }).items.map((g) => g.id).sort()).toEqual([...present.memberOf].sort());
    expect(notFound).toBeInstanceOf(Error);
    expect((notFound as { extensions?: { code?: string } }).extensions?.code).toBe('NOT_FOUND');
    expect(unaddressable).toBeInstanceOf(Error);
    expect((unaddressable as { extensions?: { code?: string } }).extensions?.code).toBe('BAD_USER_INPUT');

    const [methods, noMethods] = await loaders.authMethodsOf.loadMany([
      { key: present.id, kind: 'all' },
      { key: missing, kind: 'all' },
    ]);
    expect((methods as GraphDirectoryObject[]).map((m) => m.id).sort()).toEqual(present.authMethods.map((m) => m.id).sort());
    expect(noMethods).toBeInstanceOf(Error);

    const stats = await gw.emulator.stats();
    // Two loads of two sendable keys each: one $batch POST per load, nothing for the bad id.
    expect(stats.graphRequests).toBe(2);
    expect(stats.batch.items).toBe(4);
  });

  it('follows further pages of authentication methods per user after the batched first pages', async () => {
    const chosen = users.filter((u) => u.authMethods.length >= 2).slice(0, 3);
    expect(chosen).toHaveLength(3);
    const rest = '$skiptoken=rest';
    // Graph pages long method lists; the emulator does not, so its first pages are split here.
    const splitFirstPage = (url: string, body: { value: unknown[]; '@odata.nextLink'?: string }) => {
      if (body.value.length < 2) return body;
      const absolute = `${gw.emulator.graphEndpoint}/v1.0${url}`;
      return { ...body, value: body.value.slice(0, 1), '@odata.nextLink': `${absolute}${absolute.includes('?') ? '&' : '?'}${rest}` };
    };
    const paging: UpstreamHttp = {
      dispatcher: http.dispatcher,
      close: () => http.close(),
      fetch: async (url, init = {}) => {
        const target = String(url);
        if (target.includes(rest)) {
          const res = await http.fetch(target.replace(/[?&]\$skiptoken=rest/, ''), init);
          const body = (await res.json()) as { value: unknown[] };
          return new Response(JSON.stringify({ ...body, value: body.value.slice(1) }), { status: res.status, headers: { 'content-type': 'application/json' } });
        }
        const res = await http.fetch(url, init);
        if (!target.endsWith('/$batch') || !res.ok) return res;
        const sent = JSON.parse(String(init.body)) as { requests: Array<{ id: string; url: string }> };
        const answer = (await res.json()) as { responses: Array<{ id: string; status: number; body?: { value: unknown[] } }> };
        for (const item of answer.responses) {
          const url = sent.requests.find((r) => r.id === item.id)!.url;
          if (item.status === 200 && url.includes('/authentication/methods') && item.body) item.body = splitFirstPage(url, item.body);
        }
        return new Response(JSON.stringify(answer), { status: res.status, headers: { 'content-type': 'application/json' } });
      },
    };
    const loaders = directLoaders(paging);
    const lists = await Promise.all(chosen.map((u) => loaders.authMethodsOf.load({ key: u.id, kind: 'all' })));
    chosen.forEach((u, i) => expect(lists[i]!.map((m) => m.id).sort()).toEqual(u.authMethods.map((m) => m.id).sort()));
    const stats = await gw.emulator.stats();
    // One $batch with the three first pages, then one plain request per user for the rest.
    expect(stats.batch.requests).toBe(1);
    expect(stats.batch.items).toBe(3);
    expect(stats.graphRequests).toBe(4);
  });
});
