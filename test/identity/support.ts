import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/http/upstream.js';
import { Secret, type Config } from '../../src/config-types.js';
import type { Logger } from '../../src/logger.js';
import { createMetrics, type GatewayMetrics } from '../../src/metrics.js';
import type { EmulatorOptions } from '../../src/emulator/index.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { TEST_LIMITS } from './test-limits.js';
import { capturingLogger } from '../support/log-capture.js';

/** A complete Config pointing at the test emulator; tests override what they exercise. */
export function emulatorConfig(emulator: TestEmulator, dataDir: string, overrides: Partial<Config> = {}): Config {
  const known = emulator.tenant.wellKnown;
  return {
    listen: { host: '127.0.0.1', port: 0 },
    sandbox: { enabled: false, seed: 42, userCount: 1000, flow: 'client-credentials', emulatorPort: 0 },
    deploymentMode: 'self-deployed',
    cloud: 'AzurePublic',
    authorityHost: emulator.authorityHost,
    graphEndpoint: emulator.graphEndpoint,
    selfDeployed: {
      tenantId: emulator.tenantId,
      clientId: known.demoAppId,
      credential: { kind: 'secret', secret: new Secret(known.demoAppSecret) },
      flow: 'client-credentials',
    },
    dataDir,
    cache: { kind: 'memory' },
    tokenCacheKey: new Secret('test token cache key, long enough'),
    callerAuth: { mode: 'none' },
    extraCaPem: [emulator.caCertPem],
    logLevel: 'trace',
    introspection: false,
    corsOrigins: [],
    limits: TEST_LIMITS,
    ...overrides,
  };
}

/** Every log line written at trace level, kept to search for leaked secrets. */
export interface CapturedLogs {
  logger: Logger;
  lines: string[];
  /** Fails with the offending value's description when any secret appears in any line. */
  assertNoSecrets(secrets: Array<string | undefined>): void;
}

export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  const logger = capturingLogger(lines, 'trace');
  return {
    logger,
    lines,
    assertNoSecrets(secrets) {
      const all = lines.join('');
      for (const [i, secret] of secrets.entries()) {
        if (!secret || secret.length < 6) continue;
        if (all.includes(secret)) throw new Error(`secret #${i} (${secret.length} chars, starts ${secret.slice(0, 3)}…) appears in the logs`);
      }
    },
  };
}

export interface TestDeps {
  logger: Logger;
  metrics: GatewayMetrics;
  upstream: UpstreamHttp;
}

export function testDeps(emulator: TestEmulator, logger: Logger): TestDeps {
  return { logger, metrics: createMetrics({ defaultMetrics: false }), upstream: createUpstreamHttp({ extraCaPem: [emulator.caCertPem] }) };
}

/**
 * A password-grant (ROPC) sign-in at the emulator's token endpoint: the HTTP status and the whole
 * token response. The client is the gateway's own registration (the demo app) unless given.
 */
export async function passwordGrant(
  emulator: TestEmulator,
  input: { username: string; password: string; scope: string; clientId?: string; clientSecret?: string },
): Promise<{ status: number; body: Record<string, any> }> {
  const known = emulator.tenant.wellKnown;
  const res = await emulator.fetch(`/${emulator.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: input.clientId ?? known.demoAppId,
      client_secret: input.clientSecret ?? known.demoAppSecret,
      username: input.username,
      password: input.password,
      scope: input.scope,
    }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** A user's token for the gateway's API, by ROPC with a caller app (delegated: `scp`). */
export async function userCallerToken(
  emulator: TestEmulator,
  username: string,
  password: string,
  scope = 'api://msgraph-user-gateway/.default',
): Promise<string> {
  const known = emulator.tenant.wellKnown;
  const { body } = await passwordGrant(emulator, { username, password, scope, clientId: known.callerAppId, clientSecret: known.callerAppSecret });
  if (!body.access_token) throw new Error(`ROPC failed: ${body.error_description}`);
  return body.access_token as string;
}

/** An app-only caller token for the gateway's API (`roles`), or for the API `scope` names. */
export async function appCallerToken(
  emulator: TestEmulator,
  clientId: string,
  clientSecret: string,
  scope = 'api://msgraph-user-gateway/.default',
): Promise<string> {
  const res = await emulator.fetch(`/${emulator.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      scope,
    }).toString(),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`client credentials failed: ${body.error_description}`);
  return body.access_token;
}

export function decodeJwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** What an identity test file starts once: a 20-user emulator, a data dir, captured logs, deps. */
export interface IdentityTestBed {
  emulator: TestEmulator;
  dataDir: string;
  logs: CapturedLogs;
  deps: TestDeps;
  /** Closes the upstream HTTP layer and the emulator, then removes the data dir. */
  close(): Promise<void>;
}

export async function startIdentityTestBed(dataDirPrefix: string, emulatorOptions: EmulatorOptions = {}): Promise<IdentityTestBed> {
  const emulator = await startTestEmulator({ userCount: 20, ...emulatorOptions });
  const dataDir = mkdtempSync(path.join(tmpdir(), dataDirPrefix));
  const logs = captureLogs();
  const deps = testDeps(emulator, logs.logger);
  return {
    emulator,
    dataDir,
    logs,
    deps,
    async close() {
      await deps.upstream.close();
      await emulator.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
