/**
 * A second gateway process for the two-replica test: builds the authorization-code identity on a
 * shared Redis from a JSON argument and refreshes (invalidate + get) several times, printing one
 * JSON line with the outcome. Run with tsx by replicas.test.ts; not a test file itself.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Secret, type Config } from '../../src/config-types.js';
import { createUpstreamHttp } from '../../src/http/upstream.js';
import { createGraphIdentity } from '../../src/identity/index.js';
import type { Caller } from '../../src/identity/types.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { TEST_LIMITS } from './test-limits.js';

interface WorkerInput {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  caFile: string;
  redisUrl: string;
  redirectUri: string;
  tokenCacheKey: string;
  dataDir: string;
  rounds: number;
}

const input = JSON.parse(process.argv[2]!) as WorkerInput;
const config: Config = {
  listen: { host: '127.0.0.1', port: 0 },
  sandbox: { enabled: false, seed: 42, userCount: 20, flow: 'authorization-code', emulatorPort: 0 },
  deploymentMode: 'self-deployed',
  cloud: 'AzurePublic',
  authorityHost: input.authorityHost,
  graphEndpoint: input.authorityHost,
  selfDeployed: {
    tenantId: input.tenantId,
    clientId: input.clientId,
    credential: { kind: 'secret', secret: new Secret(input.clientSecret) },
    flow: 'authorization-code',
    redirectUri: input.redirectUri,
  },
  dataDir: input.dataDir,
  cache: { kind: 'redis', url: input.redisUrl },
  tokenCacheKey: new Secret(input.tokenCacheKey),
  callerAuth: { mode: 'none' },
  extraCaPem: [readFileSync(input.caFile, 'utf8')],
  logLevel: 'silent',
  introspection: false,
  corsOrigins: [],
  limits: TEST_LIMITS,
};

const upstream = createUpstreamHttp({ extraCaPem: config.extraCaPem });
const identity = await createGraphIdentity(config, { logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }), upstream });
const caller: Caller = { kind: 'anonymous', permissions: new Set() };
const source = identity.tokenSourceFor(caller);
const errors: string[] = [];
let ok = 0;
for (let round = 0; round < input.rounds; round++) {
  try {
    await source.getAccessToken();
    ok += 1;
  } catch (error) {
    errors.push((error as Error).message);
  }
  source.invalidate?.();
  await sleep(Math.floor(Math.random() * 15));
}
await identity.close?.();
await upstream.close();
process.stdout.write(`${JSON.stringify({ ok, errors })}\n`);
