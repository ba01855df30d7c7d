import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';
import { apiKeyCallers } from '../support/api-key-callers.js';
import { logRecords, startProductionGateway, type GatewayProcess } from '../support/gateway-process.js';

/**
 * The shared Redis going away and coming back under the production build (`node dist/src/main.js`,
 * NODE_ENV=production, as the image runs it), with deploy/redis.yaml's password: reads and a
 * mutation are answered while it is down (the token in memory, the governor on its equal share,
 * `/readyz` degraded) and audited; once a new, empty Redis answers on the same address the gateway
 * is ready again without a restart and writes its shared state there; a SIGTERM while Redis is down
 * again still drains and exits 0, with no wait on the dead connection. Nothing prints the password.
 */
const PASSWORD = 'outage-redis-pass-6d2f91c0ab47';
const KEY = 'outage-ops-key-0123456789';
const skipRedis = redisSkipReason();

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(!!skipRedis)('production build: the shared Redis goes away and comes back', () => {
  let redis: TestRedis & { port: number };
  let gw: GatewayProcess;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-redis-outage-'));
  const redisArgs = ['--requirepass', PASSWORD, '--maxmemory', '32mb', '--maxmemory-policy', 'noeviction'];

  beforeAll(async () => {
    redis = await startTestRedis(undefined, redisArgs);
    gw = await startProductionGateway({
      dataDir,
      env: {
        SANDBOX_USERS: '30',
        CACHE_URL: `redis://:${PASSWORD}@127.0.0.1:${redis.port}`,
        TOKEN_CACHE_KEY: Buffer.alloc(32, 3).toString('base64'),
        CURSOR_KEY: Buffer.alloc(32, 4).toString('base64'),
        GRAPH_REPLICAS: '2',
        LOG_LEVEL: 'info',
        ...apiKeyCallers({ ops: { key: KEY, permissions: ['Users.Read', 'Users.Terminate', 'Users.ManageAdmins'] } }),
      },
    });
  }, 240_000);

  afterAll(async () => {
    gw?.kill();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (body: unknown) =>
    fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify(body) });
  const readiness = async () => (await (await fetch(`${gw.url}/readyz`)).json()) as { status: string };
  const userIds = async (): Promise<string[]> => {
    const res = await post({ query: '{ users(first: 5) { nodes { id } } }' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data?: { users: { nodes: Array<{ id: string }> } }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data!.users.nodes.map((n) => n.id);
  };
  const gatewayKeys = async (): Promise<string[]> => {
    const client = createClient({ url: `redis://:${PASSWORD}@127.0.0.1:${redis.port}` });
    await client.connect();
    try {
      return await client.keys('*');
    } finally {
      await client.close();
    }
  };

  it('serves and audits through the outage, is ready again on the new Redis without a restart, and drains on SIGTERM while Redis is down', async () => {
    const ids = await userIds();
    expect((await readiness()).status).toBe('ready');
    expect((await gatewayKeys()).length).toBeGreaterThan(0);

    // Redis goes away (a node drain, the Recreate of deploy/redis.yaml).
    await redis.stop();
    await until('readyz degraded', async () => ((await readiness()).status === 'degraded' ? true : undefined));
    expect(await userIds()).toEqual(ids);
    const disable = await post({
      query: 'mutation($input: UserActionInput!) { disableAccount(input: $input) { accountEnabled } }',
      variables: { input: { user: ids[1] } },
    });
    const disabled = (await disable.json()) as { data?: { disableAccount: { accountEnabled: boolean } }; errors?: unknown[] };
    expect(disabled.errors).toBeUndefined();
    expect(disabled.data!.disableAccount.accountEnabled).toBe(false);
    const correlationId = disable.headers.get('x-correlation-id');
    await until('the audit line of the mutation', async () =>
      logRecords(gw.stdout()).find((r) => r.audit === true && r.operation === 'disableAccount' && r.correlationId === correlationId),
    );

    // A new, empty Redis on the same address (no persistence): the gateway reconnects by itself.
    redis = await startTestRedis(redis.port, redisArgs);
    await until('readyz ready again', async () => ((await readiness()).status === 'ready' ? true : undefined), 60_000);
    expect(await userIds()).toEqual(ids);
    await until('the shared state written to the new Redis', async () => ((await gatewayKeys()).length > 0 ? true : undefined));
    const enable = await post({
      query: 'mutation($input: UserActionInput!) { enableAccount(input: $input) { accountEnabled } }',
      variables: { input: { user: ids[1] } },
    });
    expect(((await enable.json()) as { data?: { enableAccount: { accountEnabled: boolean } } }).data?.enableAccount.accountEnabled).toBe(true);

    // Down again, then the orchestrator stops the pod: the drain does not wait on the dead Redis.
    await redis.stop();
    await until('readyz degraded again', async () => ((await readiness()).status === 'degraded' ? true : undefined));
    const signalled = Date.now();
    process.kill(gw.child.pid!, 'SIGTERM');
    expect(await gw.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(8_000);
    const records = logRecords(gw.stdout());
    expect(records.at(-1)?.msg).toBe('stopped');
    expect(records.filter((r) => r.audit === true).map((r) => `${r.operation} ${r.outcome}`)).toEqual(['disableAccount succeeded', 'enableAccount succeeded']);
    expect(gw.output()).not.toContain(PASSWORD);
  }, 180_000);
});
