import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@keyv/redis';
import { startApp, type App } from '../../src/app.js';
import { AUTH_FAILURES_KEY_PREFIX, CLEAR_ADDRESS_MEMO_MS } from '../../src/identity/authentication-failures.js';
import { graphIdentityId } from '../../src/identity/identity-id.js';
import { SIGN_IN_LINK_TTL_MS, spentLinkKey, spentLinksSinceKey } from '../../src/identity/sign-in-link.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { expectLinkRefusedUnrecorded, operatorSignInLink } from '../support/sign-in-link.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * Two replicas behind one load balancer (docs/security.md#replicas): production configuration,
 * API keys, one Redis CACHE_URL, the same TOKEN_CACHE_KEY, TRUSTED_PROXIES=loopback (the test
 * client plays the load balancer and says which client it forwards in X-Forwarded-For).
 * - A one-time sign-in link is accepted by any replica (same key) but spent for all of them: before,
 *   each replica kept its own record, so one link signed the gateway in once per replica.
 * - A sign-in started on one replica completes on another (the load balancer need not be sticky), once.
 * - Failed authentications count into one budget per client address across replicas: before, a
 *   guesser spreading guesses over N replicas had N budgets, and behind the proxy every client shared
 *   the proxy's address.
 * - A forwarded `IP:port` (Azure Application Gateway's format) counts as the IP.
 * - An IPv6 client counts by its /64 (an end site holds at least that many addresses).
 * - A client that authenticates costs no Redis command per request (a 1 s memo of "below the limit").
 * - When Redis does not answer, a link is refused (503: whether another replica spent it is unknown)
 *   and failures are still counted, in each replica's memory.
 */
const TOKEN_CACHE_KEY = 'replicas caller auth test token cache key';
const KEYS = { soar: 'soar-key-0123456789', admin: 'admin-key-0123456789' };
const WRONG_KEY = 'a-guessed-key-0000000000';
const skipRedis = redisSkipReason();
const run = promisify(execFile);

describe.skipIf(!!skipRedis)('replicas sharing Redis: sign-in links and failed authentications', () => {
  let emulator: TestEmulator;
  let redis: TestRedis;
  let a: App;
  let b: App;
  const logLines: string[] = [];
  const records = () => logRecordsOf(logLines);

  const graphql = (app: App, headers: Record<string, string>, query = '{ me { id } }') =>
    fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
  const from = (client: string) => ({ 'x-forwarded-for': client });

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 20 });
    redis = await startTestRedis();
    const start = async () => {
      const config = loadSandboxConfig(emulator, {
        NODE_ENV: 'production',
        CACHE_URL: redis.url,
        GRAPH_AUTH_FLOW: 'authorization-code',
        ...apiKeyCallers({ soar: { key: KEYS.soar, permissions: ['Users.Read'] }, admin: { key: KEYS.admin, permissions: ['Gateway.Admin'] } }),
        TOKEN_CACHE_KEY,
        TRUSTED_PROXIES: 'loopback',
        AUTH_FAILURE_LIMIT: '3',
        AUTH_FAILURE_WINDOW_SECONDS: '60',
      });
      const logger = capturingLogger(logLines, 'info');
      return startApp(config, { emulator, logger });
    };
    a = await start();
    b = await start();
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
    await emulator?.close();
  });

  it('a one-time link spent on one replica is refused by the other', async () => {
    const link = operatorSignInLink(a);
    const first = await fetch(link.url, { redirect: 'manual' });
    expect(first.status).toBe(302);
    const consent = await emulator.fetch(first.headers.get('location')!, { redirect: 'manual' });
    const callback = consent.headers.get('location')!;
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect((await fetch(callback, { headers: { cookie } })).status).toBe(200);

    // The same link, replayed at the other replica: refused there too.
    const replayed = await fetch(link.url.replace(a.url, b.url), { redirect: 'manual' });
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('location')).toBeNull();
    expect(((await replayed.json()) as { message: string }).message).toMatch(/already used/);
    // The shared record of the spent link is forgotten when the link expires (SIGN_IN_LINK_TTL_MS).
    const client = createClient({ url: redis.url });
    await client.connect();
    const msLeft = await client.pTTL(spentLinkKey(graphIdentityId(a.config), link.id));
    await client.close();
    expect(msLeft).toBeGreaterThan(0);
    expect(msLeft).toBeLessThanOrEqual(link.expiresAt.getTime() - Date.now() + 1_000);
    // The other replica accepts links of its own: it is the record that is shared, not the refusal.
    const fresh = operatorSignInLink(b);
    const started = await fetch(fresh.url, { redirect: 'manual' });
    expect(started.status).toBe(302);
    // The load balancer sends the callback of the sign-in B started to A: A completes it, once.
    const backToB = (await emulator.fetch(started.headers.get('location')!, { redirect: 'manual' })).headers.get('location')!;
    const atA = backToB.replace(b.url, a.url);
    const bound = { cookie: (started.headers.get('set-cookie') ?? '').split(';')[0]! };
    expect((await fetch(atA, { headers: { 'x-forwarded-for': '198.51.100.77' } })).status).toBe(401); // not the starting browser
    expect((await fetch(atA, { headers: bound })).status).toBe(200);
    expect((await fetch(backToB, { headers: bound })).status).toBe(400); // spent for B too
    // Both replicas now serve the signed-in account (token cache shared through Redis).
    for (const app of [a, b]) {
      const res = await graphql(app, { 'x-api-key': KEYS.soar, ...from('198.51.100.200') });
      expect(((await res.json()) as { data?: { me?: { id: string } } }).data?.me?.id).toBe(emulator.tenant.wellKnown.adminUserId);
    }
  });

  it('a Redis that forgot its spent links (restarted without persistence) does not let a spent link work again', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    // Each request from its own client address: a refused link counts as a failed authentication.
    let address = 10;
    const open = (url: string) => fetch(url, { redirect: 'manual', headers: from(`198.51.100.${address++}`) });
    try {
      // Both replicas started against this Redis: the record of spent links began then.
      const since = Number(await client.get(spentLinksSinceKey(graphIdentityId(a.config))));
      expect(since).toBeGreaterThan(0);
      expect(since).toBeLessThanOrEqual(Date.now());
      const link = operatorSignInLink(a);
      expect((await open(link.url)).status).toBe(302);
      // What a restart without persistence does to the record: the spent link and the record's start are gone.
      await client.del([spentLinkKey(graphIdentityId(a.config), link.id), spentLinksSinceKey(graphIdentityId(a.config))]);
      const replayed = await open(link.url.replace(a.url, b.url));
      expect(replayed.status).toBe(401);
      expect(replayed.headers.get('location')).toBeNull();
      expect(((await replayed.json()) as { message: string }).message).toContain("from before the gateway's record of spent links began");
      // The replay began a new record; nothing was recorded for the refused link, and it stays refused.
      expect(Number(await client.get(spentLinksSinceKey(graphIdentityId(a.config))))).toBeGreaterThanOrEqual(link.expiresAt.getTime() - SIGN_IN_LINK_TTL_MS);
      expect(await client.exists(spentLinkKey(graphIdentityId(a.config), link.id))).toBe(0);
      expect((await open(link.url)).status).toBe(401);
      // A link issued after it works, once.
      const fresh = operatorSignInLink(a);
      expect((await open(fresh.url)).status).toBe(302);
      expect((await open(fresh.url.replace(a.url, b.url))).status).toBe(401);
    } finally {
      await client.close();
    }
  });

  it("counts a client's failed authentications on every replica into one budget, by the address the proxy forwards", async () => {
    const guesser = '198.51.100.7';
    expect((await graphql(a, { 'x-api-key': WRONG_KEY, ...from(guesser) })).status).toBe(401);
    expect((await graphql(b, { 'x-api-key': WRONG_KEY, ...from(guesser) })).status).toBe(401);
    expect((await graphql(a, { 'x-api-key': WRONG_KEY, ...from(guesser) })).status).toBe(401);
    // Three failures, spread over two replicas: the guesser is blocked on both, even with the right key.
    for (const app of [a, b]) {
      const blocked = await graphql(app, { 'x-api-key': KEYS.soar, ...from(guesser) });
      expect(blocked.status).toBe(429);
      expect(((await blocked.json()) as { errors: Array<{ extensions: Record<string, unknown> }> }).errors[0]!.extensions).toMatchObject({
        code: 'THROTTLED',
        reason: 'AUTHENTICATION_FAILURES',
      });
    }
    // An address the guesser writes in front of its own is not where the walk stops.
    expect((await graphql(b, { 'x-api-key': KEYS.soar, 'x-forwarded-for': `203.0.113.50, ${guesser}` })).status).toBe(429);
    // Another client behind the same proxy is not affected.
    expect((await graphql(b, { 'x-api-key': KEYS.soar, ...from('198.51.100.8') })).status).toBe(200);
    const lines = records().filter((r) => r.msg === 'caller authentication failed' && r.route === '/graphql');
    expect(lines.map((r) => [r.clientAddress, r.failures])).toEqual([
      [guesser, 1],
      [guesser, 2],
      [guesser, 3],
    ]);
    // Another gateway on the same Redis (another Graph identity: the client-credentials flow) keeps
    // its own counts: the guesser's failures at A and B do not lock the address out of it.
    const other = await startApp(
      loadSandboxConfig(emulator, {
        NODE_ENV: 'production',
        CACHE_URL: redis.url,
        GRAPH_AUTH_FLOW: 'client-credentials',
        ...apiKeyCallers({ soar: { key: KEYS.soar, permissions: ['Users.Read'] } }),
        TOKEN_CACHE_KEY,
        TRUSTED_PROXIES: 'loopback',
        AUTH_FAILURE_LIMIT: '3',
        AUTH_FAILURE_WINDOW_SECONDS: '60',
      }),
      { emulator, logger: capturingLogger([], 'info') },
    );
    try {
      expect(graphIdentityId(other.config)).not.toBe(graphIdentityId(a.config));
      const res = await fetch(`${other.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEYS.soar, ...from(guesser) },
        body: JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }),
      });
      expect(res.status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('reads a forwarded IP:port (Azure Application Gateway) as the IP, so new connections do not buy new guesses', async () => {
    for (const port of [50001, 50002, 50003]) expect((await graphql(a, { 'x-api-key': WRONG_KEY, ...from(`198.51.100.30:${port}`) })).status).toBe(401);
    expect((await graphql(b, { 'x-api-key': KEYS.soar, ...from('198.51.100.30:50004') })).status).toBe(429);
    expect((await graphql(b, { 'x-api-key': KEYS.soar, 'x-forwarded-for': '[2001:db8:9:9::1]:443' })).status).toBe(200);
    const lines = records().filter((r) => r.msg === 'caller authentication failed' && r.clientAddress === '198.51.100.30');
    expect(lines.map((r) => r.failures)).toEqual([1, 2, 3]);
  });

  it('counts an IPv6 client by its /64, so new addresses from the same network do not buy new guesses', async () => {
    for (const guess of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:aaaa::3'])
      expect((await graphql(a, { 'x-api-key': WRONG_KEY, ...from(guess) })).status).toBe(401);
    expect((await graphql(b, { 'x-api-key': KEYS.soar, ...from('2001:0db8:0001:0002:ffff::99') })).status).toBe(429);
    expect((await graphql(b, { 'x-api-key': KEYS.soar, ...from('2001:db8:1:3::1') })).status).toBe(200);
    const lines = records().filter((r) => r.msg === 'caller authentication failed' && String(r.clientAddress).startsWith('2001:'));
    expect(lines.map((r) => [r.clientAddress, r.countedAs, r.failures])).toEqual([
      ['2001:db8:1:2::1', '2001:db8:1:2::/64', 1],
      ['2001:db8:1:2::2', '2001:db8:1:2::/64', 2],
      ['2001:db8:1:2:aaaa::3', '2001:db8:1:2::/64', 3],
    ]);
  });

  /** The failures Redis counted for `address`, under whichever partition of AUTH_FAILURES_KEY_PREFIX. */
  const failuresInRedis = async (address: string): Promise<number> => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      let total = 0;
      for await (const keys of client.scanIterator({ MATCH: `${AUTH_FAILURES_KEY_PREFIX}*:${address}` })) {
        for (const key of keys) total += Number(await client.get(key));
      }
      return total;
    } finally {
      await client.close();
    }
  };

  it('a burst of concurrent guesses from one client: no more than the limit are answered 401 on a replica', async () => {
    // Every request of a burst passes `admit` before the first failures are counted in Redis (one
    // round trip each): 1,000 concurrent guesses had 270 to 480 of them checked against a limit of 10.
    // From another process, as from another host: fetch in this one would pace the requests to the
    // gateway's own event loop, which runs here too.
    const burster = '198.51.100.40';
    const script = `
      const send = (i) => fetch(${JSON.stringify(`${a.url}/graphql`)}, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': ${JSON.stringify(WRONG_KEY)} + '-' + i, 'x-forwarded-for': ${JSON.stringify(burster)} },
        body: JSON.stringify({ query: '{ me { id } }' }),
      }).then(async (res) => { await res.arrayBuffer(); return res.status; });
      Promise.all(Array.from({ length: 400 }, (_, i) => send(i))).then((statuses) => console.log(JSON.stringify(statuses)));
    `;
    const { stdout } = await run(process.execPath, ['-e', script], { timeout: 30_000 });
    const statuses = JSON.parse(stdout) as number[];
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(3);
    expect(statuses.every((status) => status === 401 || status === 429)).toBe(true);
    // The right key is refused too, here and on the other replica (through Redis). The other
    // replica knows only what Redis holds: a failure Redis did not answer for within its command
    // timeout (500 ms; a machine loaded by other work, 400 requests on this replica's event loop)
    // was counted in this replica's memory alone, by design (docs/security.md#failed-authentication).
    expect((await graphql(a, { 'x-api-key': KEYS.soar, ...from(burster) })).status).toBe(429);
    if ((await failuresInRedis(burster)) >= 3) expect((await graphql(b, { 'x-api-key': KEYS.soar, ...from(burster) })).status).toBe(429);
  });

  it('asks Redis about a client that authenticates at most once a second, and sees a block reached elsewhere within that second', async () => {
    const redisCommands = async () => {
      const client = createClient({ url: redis.url });
      await client.connect();
      const stats = await client.info('commandstats');
      await client.close();
      return Number(/cmdstat_get:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    };
    const client = '198.51.100.20';
    // An operation that needs no Graph token: with one, every Graph request also reads the stored
    // sign-in from Redis (docs/security.md#a-new-sign-in-reaches-every-replica), which is not what is counted here.
    const noGraph = '{ __typename }';
    expect((await graphql(a, { 'x-api-key': KEYS.soar, ...from(client) }, noGraph)).status).toBe(200);
    const gets = await redisCommands();
    expect(gets).toBeGreaterThan(0); // the first request asked Redis
    for (let i = 0; i < 3; i++) expect((await graphql(a, { 'x-api-key': KEYS.soar, ...from(client) }, noGraph)).status).toBe(200);
    expect(await redisCommands()).toBe(gets);

    // The same address fails three times on B: blocked there at once, on A within CLEAR_ADDRESS_MEMO_MS.
    for (let i = 0; i < 3; i++) expect((await graphql(b, { 'x-api-key': WRONG_KEY, ...from(client) })).status).toBe(401);
    expect((await graphql(b, { 'x-api-key': KEYS.soar, ...from(client) })).status).toBe(429);
    await new Promise((r) => setTimeout(r, CLEAR_ADDRESS_MEMO_MS + 100));
    expect((await graphql(a, { 'x-api-key': KEYS.soar, ...from(client) })).status).toBe(429);
  });

  it('when Redis does not answer: refuses a link with 503 (fail closed) and still counts failures, per replica', async () => {
    await redis.stop();
    await expectLinkRefusedUnrecorded(operatorSignInLink(a).url);

    const guesser = '198.51.100.9';
    for (let i = 0; i < 3; i++) expect((await graphql(a, { 'x-api-key': WRONG_KEY, ...from(guesser) })).status).toBe(401);
    expect((await graphql(a, { 'x-api-key': KEYS.soar, ...from(guesser) })).status).toBe(429);
    expect(logLines.join('')).not.toContain(WRONG_KEY);
  }, 30_000);
});
