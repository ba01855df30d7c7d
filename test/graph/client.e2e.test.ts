import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GraphUser, UserLookupKey } from '../../src/graph/api.js';
import { createGraphClient, type GraphClient } from '../../src/graph/client.js';
import { createGraphLoaders } from '../../src/graph/loaders.js';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/http/upstream.js';
import type { GraphTokenSource } from '../../src/identity/types.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { demoAppGraphToken, startTestEmulator, type TestEmulator } from '../support/emulator.js';

/** End to end against the emulator: real token, real sockets, upstream requests counted by the emulator. */

let emulator: TestEmulator;
let http: UpstreamHttp;
/** Every URL and header set the client sent (a recording wrapper around the real HTTP layer). */
let sent: Array<{
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  batchAnswer?: { responses: Array<{ id: string; status: number }> };
}> = [];
let upstream: UpstreamHttp;
let tokenSource: GraphTokenSource;
let logText = '';

beforeAll(async () => {
  emulator = await startTestEmulator();
  http = createUpstreamHttp({ extraCaPem: [emulator.caCertPem] });
  upstream = {
    dispatcher: http.dispatcher,
    close: () => http.close(),
    fetch: async (url, init = {}) => {
      const entry: (typeof sent)[number] = {
        method: init.method ?? 'GET',
        url: String(url),
        headers: { ...(init.headers as Record<string, string>) },
        body: init.body as string | undefined,
      };
      sent.push(entry);
      const res = await http.fetch(url, init);
      if (entry.url.endsWith('/$batch') && res.ok) entry.batchAnswer = (await res.clone().json()) as typeof entry.batchAnswer;
      return res;
    },
  };
  const token = await demoAppGraphToken(emulator);
  tokenSource = { partition: 'demo-app', getAccessToken: async () => token };
});

afterAll(async () => {
  await http?.close();
  await emulator?.close();
});

beforeEach(async () => {
  sent = [];
  await emulator.setFaults({ throttleRate: 0, unavailableRate: 0, timeoutRate: 0, dropRate: 0, latencyMs: 0 });
  await emulator.resetStats();
});

function newClient(options: { maxRetries?: number } = {}): GraphClient {
  const destination = new Writable({
    write(chunk, _e, cb) {
      logText += chunk.toString();
      cb();
    },
  });
  return createGraphClient({
    upstream,
    tokenSource,
    graphEndpoint: emulator.graphEndpoint,
    logger: createLogger({ level: 'debug', destination }),
    metrics: createMetrics({ defaultMetrics: false }),
    correlationId: 'e2e',
    ...options,
  });
}

const users = () => [...emulator.tenant.users.values()];
const sel = (...select: string[]): string[] => select;

describe('user loader', () => {
  it('50 GUID lookups cost one getByIds', async () => {
    const loaders = createGraphLoaders(newClient());
    const picked = users().slice(0, 50);
    const results = await Promise.all(picked.map((u) => loaders.user.load({ key: u.id, select: sel('displayName') })));
    expect(results.map((r) => r?.displayName)).toEqual(picked.map((u) => u.displayName));
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(stats.byRoute['POST /v1.0/directoryObjects/getByIds']).toBe(1);
    expect(sent[0]!.url).toContain('$select=id,displayName');
  });

  it('50 GUID lookups with the manager expanded cost 3 $batch requests (20+20+10)', async () => {
    const loaders = createGraphLoaders(newClient());
    const picked = users()
      .filter((u) => u.managerId)
      .slice(0, 50);
    const results = await Promise.all(picked.map((u) => loaders.user.load({ key: u.id, select: sel('displayName'), expandManager: sel('displayName') })));
    const names = (id: string) => emulator.tenant.users.get(id)!.displayName;
    expect(results.map((r) => (r?.manager as GraphUser | undefined)?.displayName)).toEqual(picked.map((u) => names(u.managerId!)));
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(3);
    expect(stats.batch).toMatchObject({ requests: 3, items: 50 });
  });

  it('30 UPN lookups cost 2 $batch requests, identical keys go upstream once', async () => {
    const loaders = createGraphLoaders(newClient());
    const picked = users().slice(100, 130);
    const keys: UserLookupKey[] = picked.map((u) => ({ key: u.userPrincipalName, select: sel('displayName', 'mail') }));
    // The same lookups again, differently cased and with the select in another order.
    const again = picked.slice(0, 5).map((u) => ({ key: u.userPrincipalName.toUpperCase(), select: sel('mail', 'displayName') }));
    const results = await Promise.all([...keys, ...again].map((k) => loaders.user.load(k)));
    expect(results.slice(0, 30).map((r) => r?.id)).toEqual(picked.map((u) => u.id));
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(2);
    expect(stats.batch).toMatchObject({ requests: 2, items: 30 });
  });

  it('a missing user is null for that key only, in getByIds and $batch alike', async () => {
    const loaders = createGraphLoaders(newClient());
    const [a, b] = users();
    const results = await Promise.all([
      loaders.user.load({ key: a!.id, select: [] }),
      loaders.user.load({ key: '00000000-0000-4000-8000-000000000000', select: [] }),
      loaders.user.load({ key: b!.userPrincipalName, select: [] }),
      loaders.user.load({ key: 'nobody@contoso.example', select: [] }),
    ]);
    expect(results.map((r) => r?.id ?? null)).toEqual([a!.id, null, b!.id, null]);
  });

  it('regression: getByIds takes hyphenated GUIDs only (a braced or unhyphenated one fails the whole call with 400 "Invalid GUID specified."); such keys go through $batch and the GUID lookups beside them still answer', async () => {
    const loaders = createGraphLoaders(newClient());
    const picked = users().slice(10, 15);
    const odd = [`{${picked[0]!.id}}`, picked[1]!.id.replace(/-/g, '')];
    const results = await Promise.allSettled([...picked.map((u) => u.id), ...odd].map((key) => loaders.user.load({ key, select: sel('displayName') })));
    expect(results.slice(0, 5).map((r) => (r.status === 'fulfilled' ? r.value?.id : r.reason))).toEqual(picked.map((u) => u.id));
    // Whatever Graph answers the odd keys, it is about those keys: a null or a caller error, never a 500.
    for (const r of results.slice(5)) {
      if (r.status === 'fulfilled') expect(r.value).toBeNull();
      else expect((r.reason as { code?: string }).code).toMatch(/^(BAD_USER_INPUT|NOT_FOUND)$/);
    }
    const getByIds = sent.filter((s) => s.url.includes('/directoryObjects/getByIds'));
    expect(getByIds).toHaveLength(1);
    const ids = (JSON.parse(getByIds[0]!.body!) as { ids: string[] }).ids;
    expect(ids.sort()).toEqual(picked.map((u) => u.id).sort());
    const stats = await emulator.stats();
    expect(stats.byStatus?.['400'] ?? 0).toBe(0);
  });

  it('an unaddressable key rejects alone, before anything is sent', async () => {
    const loaders = createGraphLoaders(newClient());
    const u = users()[3]!;
    const [bad, good] = await Promise.allSettled([loaders.user.load({ key: '..', select: [] }), loaders.user.load({ key: u.userPrincipalName, select: [] })]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'BAD_USER_INPUT' } });
    expect(good).toMatchObject({ status: 'fulfilled', value: { id: u.id } });
    expect(sent.every((s) => !s.url.includes('..'))).toBe(true);
  });

  it('throttled $batch items are retried alone and every answer is right', async () => {
    await emulator.setFaults({ throttleRate: 0.3, retryAfterSeconds: 1, seed: 1 });
    const loaders = createGraphLoaders(newClient());
    const picked = users().slice(200, 240);
    const results = await Promise.all(picked.map((u) => loaders.user.load({ key: u.userPrincipalName, select: sel('displayName') })));
    expect(results.map((r) => r?.displayName)).toEqual(picked.map((u) => u.displayName));
    expect((await emulator.stats()).faults.throttled).toBeGreaterThan(0);
    // Retries carried only failed items: once an item got its 200 it is never sent again.
    const batches = sent.filter((s) => s.url.endsWith('/$batch'));
    expect(batches.length).toBeGreaterThan(2);
    const succeeded = new Set<string>();
    for (const b of batches) {
      const items = (JSON.parse(b.body!) as { requests: Array<{ id: string; url: string }> }).requests;
      expect(items.length).toBeLessThanOrEqual(20);
      for (const item of items) expect(succeeded.has(item.url)).toBe(false);
      for (const r of b.batchAnswer?.responses ?? []) if (r.status === 200) succeeded.add(items.find((i) => i.id === r.id)!.url);
    }
    expect(succeeded.size).toBe(40);
  }, 30_000);

  it('a failed envelope rejects its keys and clears them from the cache, so a later load retries', async () => {
    const loaders = createGraphLoaders(newClient({ maxRetries: 0 }));
    const picked = users()
      .slice(300, 303)
      .map((u) => ({ key: u.userPrincipalName, select: sel('displayName') }));
    await emulator.setFaults({ unavailableRate: 1, retryAfterSeconds: 0 });
    const failed = await Promise.allSettled(picked.map((k) => loaders.user.load(k)));
    expect(failed.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok'))).toEqual(Array(3).fill('UPSTREAM_UNAVAILABLE'));
    await emulator.setFaults({ unavailableRate: 0 });
    const again = await Promise.all(picked.map((k) => loaders.user.load(k)));
    expect(again.map((u) => u?.id)).toEqual(
      users()
        .slice(300, 303)
        .map((u) => u.id),
    );
  });

  it('managerOf and directReportsOf batch through $batch', async () => {
    const loaders = createGraphLoaders(newClient());
    const withReports = users()
      .filter((u) => users().some((x) => x.managerId === u.id))
      .slice(0, 3);
    const withoutManager = users().find((u) => !u.managerId)!;
    const [m1, m2, ...pages] = await Promise.all([
      loaders.managerOf.load({ key: users().find((u) => u.managerId)!.id, select: sel('displayName') }),
      loaders.managerOf.load({ key: withoutManager.id, select: sel('displayName') }),
      ...withReports.map((u) => loaders.directReportsOf.load({ key: u.id, select: sel('displayName'), top: 5 })),
    ]);
    expect(m1).toMatchObject({ id: expect.any(String), displayName: expect.any(String) });
    expect(m2).toBeNull();
    const pageList = pages as unknown as Array<{ items: GraphUser[] }>;
    pageList.forEach((p, i) => {
      expect(p.items.length).toBeGreaterThan(0);
      for (const r of p.items) expect(emulator.tenant.users.get(r.id)?.managerId).toBe(withReports[i]!.id);
    });
    expect((await emulator.stats()).graphRequests).toBe(1);
  });
});

describe('addressing', () => {
  it("sends $select=id,displayName for ['displayName'] and gets just that", async () => {
    const u = users()[7]!;
    const got = await newClient().getUser(u.id, ['displayName']);
    expect(
      Object.keys(got!)
        .filter((k) => !k.startsWith('@'))
        .sort(),
    ).toEqual(['displayName', 'id']);
    expect(new URL(sent[0]!.url).search).toBe('?$select=id,displayName');
  });

  it('finds B2B #EXT#, apostrophe and $-prefixed UPNs', async () => {
    const client = newClient();
    const special = users().filter((u) => /#EXT#|'|^\$/.test(u.userPrincipalName));
    const wanted = [
      special.find((u) => u.userPrincipalName.includes('#EXT#')),
      special.find((u) => u.userPrincipalName.includes("'")),
      special.find((u) => u.userPrincipalName.startsWith('$')),
    ];
    for (const u of wanted) {
      expect(u).toBeDefined();
      expect((await client.getUser(u!.userPrincipalName, ['userPrincipalName']))?.id).toBe(u!.id);
    }
    expect(sent.map((s) => new URL(s.url).pathname)).toEqual([
      `/v1.0/users/${wanted[0]!.userPrincipalName.replace(/#/g, '%23')}`,
      `/v1.0/users/${wanted[1]!.userPrincipalName}`,
      `/v1.0/users('${wanted[2]!.userPrincipalName}')`,
    ]);
  });

  it('ids with /, ?, #, %2F are encoded and never sent raw; .. is refused unsent', async () => {
    const client = newClient();
    for (const id of ['a/b', 'a?b=1', 'a#b', 'a%2Fb', '../me']) {
      const result = await client.getUser(id, []).then(
        (v) => v,
        (e: { code: string }) => e.code,
      );
      expect([null, 'BAD_USER_INPUT']).toContain(result);
    }
    const paths = sent.map((s) => s.url.slice(emulator.origin.length));
    // A key that is not an object id is a UPN lookup: it selects userPrincipalName too (src/graph/user-answer.ts).
    expect(paths).toEqual([
      '/v1.0/users/a%2Fb?$select=id,userPrincipalName',
      '/v1.0/users/a%3Fb%3D1?$select=id,userPrincipalName',
      '/v1.0/users/a%23b?$select=id,userPrincipalName',
      '/v1.0/users/a%252Fb?$select=id,userPrincipalName',
    ]);
    const stats = await emulator.stats();
    expect(Object.keys(stats.byRoute)).toEqual(['GET /v1.0/users/{id}']);
  });
});

describe('paging', () => {
  it('walks all users with first 250 and sees each exactly once', async () => {
    const client = newClient();
    const seen = new Map<string, number>();
    let page = await client.listUsers({ kind: 'first', query: { top: 250, select: sel('displayName'), count: false, advanced: false } });
    for (;;) {
      for (const u of page.items) seen.set(u.id, (seen.get(u.id) ?? 0) + 1);
      if (!page.nextLink) break;
      page = await client.listUsers({ kind: 'next', nextLink: page.nextLink, advanced: false });
    }
    expect(seen.size).toBe(emulator.tenant.users.size);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect((await emulator.stats()).graphRequests).toBe(Math.ceil(emulator.tenant.users.size / 250));
  });

  it('under throttling, retried pages re-use the last good nextLink and still see each user once', async () => {
    await emulator.setFaults({ throttleRate: 0.3, retryAfterSeconds: 1, seed: 7 });
    const client = newClient();
    const seen = new Set<string>();
    let duplicates = 0;
    let page = await client.listUsers({ kind: 'first', query: { top: 500, select: [], count: false, advanced: false } });
    for (;;) {
      for (const u of page.items) {
        if (seen.has(u.id)) duplicates++;
        else seen.add(u.id);
      }
      if (!page.nextLink) break;
      page = await client.listUsers({ kind: 'next', nextLink: page.nextLink, advanced: false });
    }
    expect(duplicates).toBe(0);
    expect(seen.size).toBe(emulator.tenant.users.size);
    const urls = sent.map((s) => s.url);
    // Every request repeated after a 429 is byte-identical to the one that failed.
    expect(new Set(urls).size).toBe(Math.ceil(emulator.tenant.users.size / 500));
  }, 30_000);

  it('advanced queries send ConsistencyLevel and $count on the first page, the header again on every page', async () => {
    const client = newClient();
    const first = await client.listUsers({
      kind: 'first',
      query: { top: 100, select: sel('displayName'), filter: "endsWith(mail,'@contoso.example')", count: true, advanced: true },
    });
    expect(first.count).toBeGreaterThan(100);
    expect(first.nextLink).not.toBeNull();
    await client.listUsers({ kind: 'next', nextLink: first.nextLink!, advanced: true });
    expect(sent).toHaveLength(2);
    expect(sent.every((s) => s.headers.ConsistencyLevel === 'eventual')).toBe(true);
    expect(sent[0]!.url).toContain('$count=true');
  });

  it('lists with the manager expanded in the same request', async () => {
    const page = await newClient().listUsers({
      kind: 'first',
      query: { top: 100, select: sel('displayName'), expandManager: sel('displayName'), count: false, advanced: false },
    });
    const withManager = page.items.filter((u) => u.manager);
    expect(withManager.length).toBeGreaterThan(0);
    for (const u of withManager)
      expect((u.manager as GraphUser).displayName).toBe(emulator.tenant.users.get(emulator.tenant.users.get(u.id)!.managerId!)!.displayName);
    expect((await emulator.stats()).graphRequests).toBe(1);
  });

  it('a tampered nextLink host is BAD_USER_INPUT with zero upstream requests', async () => {
    const client = newClient();
    const first = await client.listUsers({ kind: 'first', query: { top: 5, select: [], count: false, advanced: false } });
    await emulator.resetStats();
    sent = [];
    const tampered = first.nextLink!.replace(new URL(emulator.origin).host, 'evil.example');
    await expect(client.listUsers({ kind: 'next', nextLink: tampered, advanced: false })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(
      client.listUsers({ kind: 'next', nextLink: first.nextLink!.replace('/v1.0/users', '/v1.0/users/x/authentication/methods'), advanced: false }),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    expect(sent).toHaveLength(0);
    expect((await emulator.stats()).totalRequests).toBe(0);
  });
});

describe('relationships, changes and errors', () => {
  it('pages direct reports and member-of groups', async () => {
    const client = newClient();
    const boss = users().find((u) => users().filter((x) => x.managerId === u.id).length > 2)!;
    const reports = await client.listDirectReports(boss.id, { kind: 'first', query: { top: 2, select: sel('displayName') } });
    expect(reports.items).toHaveLength(2);
    expect(reports.nextLink).not.toBeNull();
    const more = await client.listDirectReports(boss.id, { kind: 'next', nextLink: reports.nextLink!, advanced: false });
    expect(more.items.length).toBeGreaterThan(0);
    const member = users().find((u) => u.memberOf.length > 0)!;
    const groups = await client.listMemberOf(member.id, { kind: 'first', query: { top: 50, select: sel('displayName') } });
    expect(groups.items.map((g) => g.id).sort()).toEqual([...member.memberOf].sort());
  });

  it('reads authentication methods of every kind', async () => {
    const u = users().find((x) => x.authMethods.length > 1)!;
    const all = await newClient().listAuthMethods(u.id, 'all');
    expect(all.map((m) => m.id).sort()).toEqual(u.authMethods.map((m) => m.id).sort());
  });

  it('follows a delta round to its deltaLink, then sees no changes', async () => {
    const client = newClient();
    const round = await client.userChanges({ select: sel('displayName') });
    expect(round.changed.length).toBe(emulator.tenant.users.size);
    expect(round.deltaLink).not.toBeNull();
    const next = await client.userChanges({ deltaLink: round.deltaLink!, select: [] });
    expect(next.changed).toHaveLength(0);
    await expect(client.userChanges({ deltaLink: 'https://evil.example/v1.0/users/delta?$deltatoken=x', select: [] })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
  });

  it('maps a 400 with Graph code and request-id; unknown user is null', async () => {
    const client = newClient();
    expect(await client.getUser('nobody@contoso.example', [])).toBeNull();
    await expect(
      client.listUsers({ kind: 'first', query: { top: 5, select: [], filter: "endsWith(mail,'x')", count: false, advanced: false } }),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', extensions: { requestId: expect.any(String), graphErrorCode: expect.any(String) } });
  });

  it('never logs the token', () => {
    expect(logText.length).toBeGreaterThan(0);
    expect(logText).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
  });
});
