import { servedOverHttpsResolver } from './http/served-over-https.js';
import { randomBytes } from 'node:crypto';
import type { Config } from './config-types.js';
import { startEmulator, type RunningEmulator } from './emulator/index.js';
import { createGateway, type Gateway } from './gateway.js';
import { openGovernorRegistry } from './graph/governor-registry.js';
import { createUpstreamHttp } from './http/upstream.js';
import { createAuditLog } from './audit/index.js';
import { createAuthenticationGuard } from './identity/authentication-failures.js';
import { authenticationChallenge, createAuthRoutes, createGraphIdentity } from './identity/index.js';
import { openCallerAuthentication } from './identity/caller-authentication.js';
import { graphIdentityId } from './identity/identity-id.js';
import { createSignInLinks, deriveSignInLinkKey, openSpentLinksInRedis } from './identity/sign-in-link.js';
import { closeRedisConnection, openRedisConnection, SHARED_STATE_COMMAND_TIMEOUT_MS } from './store/redis-connection.js';
import { warnIfRedisEvicts, warnIfRedisHasNoPassword } from './store/redis-eviction.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import { applySandbox, emulatorDataDir } from './sandbox.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from './telemetry/tracing.js';
import { withTraceContext } from './telemetry/upstream.js';

/**
 * Process-wide composition: config → (sandbox: emulator) → upstream HTTP → Graph identity →
 * caller authentication → gateway. main.ts, the end-to-end tests and the benchmark all start the
 * gateway through here, so what they exercise is what `npm start` runs.
 */
export interface App {
  url: string;
  /** The effective config (sandbox hosts and credentials applied). */
  config: Config;
  logger: Logger;
  metrics: GatewayMetrics;
  emulator?: RunningEmulator;
  gateway: Gateway;
  /** OpenTelemetry traces (docs/operations.md#traces): `enabled` false unless configured. */
  tracing: Tracing;
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  metrics?: GatewayMetrics;
  /** Use this emulator instead of starting one (tests share one per file). */
  emulator?: RunningEmulator;
  /** Send spans here instead of to Config.tracing's OTLP collector, and trace even without one (tests). */
  spanExporter?: SpanExporter;
}

export async function startApp(baseConfig: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger({ level: baseConfig.logLevel });
  const metrics = options.metrics ?? createMetrics();
  const closers: Array<() => Promise<void>> = [];
  try {
    // First to start, last to close: the spans of the drained operations are exported on the way out.
    const tracing = await startTracing(baseConfig.tracing, { logger, ...(options.spanExporter ? { spanExporter: options.spanExporter } : {}) });
    closers.push(() => tracing.shutdown());
    let emulator: RunningEmulator | undefined;
    let config = baseConfig;
    if (baseConfig.sandbox.enabled) {
      emulator =
        options.emulator ??
        (await startEmulator({
          port: baseConfig.sandbox.emulatorPort,
          seed: baseConfig.sandbox.seed,
          userCount: baseConfig.sandbox.userCount,
          dataDir: emulatorDataDir(baseConfig),
        }));
      if (!options.emulator) closers.push(() => emulator!.close());
      config = applySandbox(baseConfig, emulator);
    }
    const http = createUpstreamHttp({
      extraCaPem: config.extraCaPem,
      ...(config.httpsProxy ? { httpsProxy: config.httpsProxy } : {}),
      requestTimeoutMs: config.limits.upstreamTimeoutMs,
      ...(config.limits.maxUpstreamResponseBytes !== undefined ? { maxResponseBytes: config.limits.maxUpstreamResponseBytes } : {}),
    });
    const upstream = tracing.enabled ? withTraceContext(http, { graphEndpoint: config.graphEndpoint }) : http;
    closers.push(() => upstream.close());
    const identity = await createGraphIdentity(config, { logger, metrics, upstream });
    closers.push(async () => identity.close?.());
    if (config.selfDeployed?.flow === 'authorization-code' && !config.signInAccount) {
      // Whoever completes /auth/login (an operator, or anyone holding a sign-in link) decides the
      // Graph identity every caller is served as (docs/security.md#sign-in-is-an-operator-act).
      logger.warn(
        'SIGN_IN_ACCOUNT is not set: any account of the tenant that completes /auth/login becomes the Graph identity every caller is served as; set it to the operator account',
      );
    }
    if (config.federation === true && config.callerAuth.mode !== 'none' && (config.trustedProxies?.length ?? 0) === 0) {
      // Every fetch of a supergraph comes from the router's address, and a router adds no
      // X-Forwarded-For: all its clients share one failed-authentication budget, so anyone who sends
      // the router AUTH_FAILURE_LIMIT wrong credentials shuts them all out of this subgraph
      // (docs/security.md#the-federation-entry-points).
      logger.warn(
        "FEDERATION=true without TRUSTED_PROXIES: every request of a router counts against the router's address, so one client's wrong credentials (AUTH_FAILURE_LIMIT of them) lock every supergraph client out for AUTH_FAILURE_WINDOW_SECONDS; have the router propagate X-Forwarded-For and set TRUSTED_PROXIES to its addresses (docs/querying.md#adding-it-to-an-apollo-router-supergraph)",
      );
    }
    // In hosted mode the broker's "Token" is the tenant id (docs/identity.md#hosted-broker).
    const tenantId = emulator?.tenantId ?? config.selfDeployed?.tenantId ?? config.hosted?.token.reveal();
    // With a Redis CACHE_URL, replicas share through one connection of this process the Graph budget
    // (docs/reliability.md#shared-rate-governor), the failed-authentication counts, the spent
    // sign-in links and the containments of users (docs/security.md#replicas); without it each process keeps its own.
    const sharedRedis =
      config.cache.kind === 'redis'
        ? await openRedisConnection({ url: config.cache.url, logger, component: 'shared-state', commandTimeoutMs: SHARED_STATE_COMMAND_TIMEOUT_MS })
        : undefined;
    if (sharedRedis) {
      closers.push(() => closeRedisConnection(sharedRedis));
      await warnIfRedisEvicts(sharedRedis, logger);
      if (config.cache.kind === 'redis') warnIfRedisHasNoPassword(config.cache.url, logger);
    }
    // Only Entra caller tokens name a user whose tokens a containment can stop (docs/security.md#contained-users-caller-tokens):
    // callerAuthenticator, and with CALLER_AUTH=entra callerRevocations, handed to the gateway as they are.
    const { close: closeCallerAuthentication, ...callerAuthentication } = await openCallerAuthentication(config, {
      logger,
      upstream,
      ...(tenantId ? { tenantId } : {}),
      ...(sharedRedis ? { sharedRedis } : {}),
    });
    closers.push(closeCallerAuthentication);
    // The Graph identity's partition (a digest): what this deployment's replicas share in Redis, and
    // no other gateway's (docs/operations.md#redis).
    const identityId = graphIdentityId(config);
    // One failed-authentication budget per client address for GraphQL and the sign-in routes alike.
    const authGuard = createAuthenticationGuard({
      config,
      logger,
      metrics,
      ...(sharedRedis ? { redis: sharedRedis, partition: identityId } : {}),
    });
    // Closed after the gateway has drained: the counts of refusals not logged still held are written then.
    closers.push(async () => authGuard.close());
    const authRoutes = createAuthRoutes(identity, {
      logger,
      callerAuthenticator: callerAuthentication.callerAuthenticator,
      challenge: authenticationChallenge(config.callerAuth),
      // Without REDIRECT_URI, an https callback URL behind a TLS-ending proxy (docs/identity.md#the-callback-url).
      servedOverHttps: servedOverHttpsResolver(config.trustedProxies ?? []),
      authGuard,
      auditLog: createAuditLog({ logger, metrics }),
      // Without TOKEN_CACHE_KEY only this process can mint links (POST /auth/login-link), and only it
      // accepts them; with it, every replica of the same Graph identity sharing the key does (once,
      // through Redis when CACHE_URL is one), and no gateway of another identity.
      signInLinks: createSignInLinks({
        key: config.tokenCacheKey ? deriveSignInLinkKey(config.tokenCacheKey.reveal(), identityId) : randomBytes(32),
        ...(sharedRedis ? { spent: await openSpentLinksInRedis(sharedRedis, identityId) } : {}),
      }),
    });
    const exampleUserId = emulator ? aManagerIn(emulator) : undefined;
    // One governor per Graph tenant for the whole process: Graph's limits are per app and tenant,
    // shared by every replica through Redis when CACHE_URL is one (docs/reliability.md#shared-rate-governor).
    const governors = await openGovernorRegistry(config, { logger, identityId, ...(sharedRedis ? { redis: sharedRedis } : {}) });
    closers.push(() => governors.close());
    const gateway = await createGateway({
      governors,
      config,
      logger,
      metrics,
      upstream,
      identity,
      ...callerAuthentication,
      authRoutes,
      authGuard,
      ...(config.cursorKey ? { cursorKey: Buffer.from(config.cursorKey.reveal(), 'base64') } : {}),
      ...(config.cursorKeyPrevious ? { previousCursorKey: Buffer.from(config.cursorKeyPrevious.reveal(), 'base64') } : {}),
      ...(exampleUserId ? { playground: { exampleUserId } } : {}),
    });
    const url = await gateway.listen();
    // Close in reverse order of start: the gateway drains first, the emulator goes last.
    closers.push(() => gateway.close());
    return {
      url,
      config,
      logger,
      metrics,
      ...(emulator ? { emulator } : {}),
      gateway,
      tracing,
      close: async () => {
        for (const close of closers.reverse()) await close().catch((error: unknown) => logger.warn({ err: error }, 'error while closing'));
        logger.flush?.();
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

/** A sandbox user with direct reports, so the playground's profile example shows an org chart. */
function aManagerIn(emulator: RunningEmulator): string | undefined {
  for (const user of emulator.tenant.users.values()) if (user.managerId) return user.managerId;
  return undefined;
}
