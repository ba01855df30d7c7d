import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, type Config } from '../../src/config-types.js';
import { openGovernorRegistry, type GraphGovernorRegistry } from '../../src/graph/governor-registry.js';
import { graphIdentityId } from '../../src/identity/identity-id.js';
import { capturingLogger } from '../support/log-capture.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';

/**
 * Hosted gateways of two broker registrations (two hosted customers) and a second replica of one of
 * them, on one Redis (docs/operations.md#redis). The shared Graph budget's key was
 * `mgug:governor:{broker-<BROKER_ID>|…}`: BROKER_ID, which the docs keep from callers' eyes, in clear
 * to anyone who can list the keys. Now it is the Graph identity's partition (`hosted-<digest>`, the
 * token store's): each customer its own bucket, the replicas of one deployment one bucket together.
 */
const skipRedis = redisSkipReason();

describe.skipIf(!!skipRedis)('one Redis shared by hosted gateways: the rate budget keys', () => {
  let emulator: TestEmulator;
  let redis: TestRedis;
  const registries: GraphGovernorRegistry[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 2 });
    redis = await startTestRedis();
  }, 60_000);
  afterAll(async () => {
    for (const registry of registries) await registry.close();
    await redis?.stop();
    await emulator?.close();
  });

  it('name no BROKER_ID, keep one bucket per customer, and one for the replicas of a customer', async () => {
    const base = loadSandboxConfig(emulator, { NODE_ENV: 'production', DEPLOYMENT_MODE: 'hosted', CACHE_URL: redis.url });
    const customer = (registrationId: string): Config => ({
      ...base,
      deploymentMode: 'hosted',
      hosted: { brokerUrl: emulator.brokerUrl, registrationId, token: new Secret(emulator.tenantId), key: new Secret('broker key') },
    });
    const a = customer('registration-of-customer-a');
    const b = customer('registration-of-customer-b');
    const open = async (config: Config) => {
      const registry = await openGovernorRegistry(config, { logger: capturingLogger([], 'info'), identityId: graphIdentityId(config) });
      registries.push(registry);
      // In hosted mode the governor's tenant is the same partition (src/graphql/context.ts, graphTenantOf).
      const permit = await registry.forTenant(graphIdentityId(config)).acquire(1);
      permit.release();
      return registry;
    };
    await open(a);
    await open(a); // a second replica of customer A
    await open(b);

    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const buckets = async () => (await client.keys('mgug:governor:*')).filter((k) => !k.endsWith(':replicas')).sort();
      const idA = graphIdentityId(a);
      const idB = graphIdentityId(b);
      expect(idA).toMatch(/^hosted-[0-9a-f]{24}$/);
      expect(idA).not.toBe(idB);
      expect(await buckets()).toEqual([`mgug:governor:{${idA}|${idA}}`, `mgug:governor:{${idB}|${idB}}`].sort());
      const all = (await client.keys('*')).join('\n');
      expect(all).not.toContain('registration-of-customer');
      // Both replicas of A joined A's bucket (heartbeats: poll, the first one is asynchronous).
      const deadline = Date.now() + 20_000;
      while ((await client.zCard(`mgug:governor:{${idA}|${idA}}:replicas`)) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await client.zCard(`mgug:governor:{${idA}|${idA}}:replicas`)).toBe(2);
      expect(await client.zCard(`mgug:governor:{${idB}|${idB}}:replicas`)).toBe(1);
    } finally {
      await client.close();
    }
  }, 60_000);
});
