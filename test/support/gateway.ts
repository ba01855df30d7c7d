import { Secret, type Config } from '../../src/config-types.js';
import { createGateway, type Gateway, type GatewayDeps } from '../../src/gateway.js';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/http/upstream.js';
import { createGraphIdentity } from '../../src/identity/index.js';
import { openCallerAuthentication } from '../../src/identity/caller-authentication.js';
import type { GraphIdentity } from '../../src/identity/types.js';
import type { Logger } from '../../src/logger.js';
import { createMetrics, type GatewayMetrics } from '../../src/metrics.js';
import { applySandbox } from '../../src/sandbox.js';
import { startTestEmulator, type TestEmulator } from './emulator.js';
import { loadSandboxConfig } from './sandbox-config.js';
import { capturingLogger, logRecordsOf } from './log-capture.js';

export interface TestGatewayOptions {
  /** Reuse a running emulator (several gateways over one tenant); otherwise one is started and owned. */
  emulator?: TestEmulator;
  /** Extra environment for loadConfig (e.g. DEPLOYMENT_MODE, CALLER_AUTH). */
  env?: Record<string, string>;
  /** Last word on the Config (e.g. point the gateway at the read-only app). */
  configure?: (config: Config) => Config;
  /** Extra dependencies (playground examples, cursor key, mutation resolvers...). */
  deps?: Partial<Pick<GatewayDeps, 'cursorKey' | 'playground' | 'extraResolvers'>>;
  /** Wraps the real upstream HTTP layer (e.g. to record the Graph URLs the gateway sends). */
  upstream?: (real: UpstreamHttp) => UpstreamHttp;
}

export interface GraphQLResult<T = Record<string, any>> {
  status: number;
  headers: Headers;
  data: T | null | undefined;
  errors: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }> | undefined;
}

export interface TestGateway {
  /** `http://127.0.0.1:PORT` */
  url: string;
  emulator: TestEmulator;
  config: Config;
  gateway: Gateway;
  identity: GraphIdentity;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Every log line (JSON text) at debug level and above. */
  logLines: string[];
  /** Parsed log records whose `msg` is `msg`. */
  logRecords(msg: string): Array<Record<string, any>>;
  graphql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResult<T>>;
  close(): Promise<void>;
}

/**
 * A real gateway on a loopback port wired to a real emulator tenant over HTTPS, through the same
 * pieces main.ts uses: loadConfig + applySandbox, the upstream HTTP layer, the msal-backed Graph
 * identity and the caller authentication with its containment records (openCallerAuthentication).
 */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const emulator = options.emulator ?? (await startTestEmulator());
  const ownsEmulator = options.emulator === undefined;
  const base = loadSandboxConfig(emulator, {
    LOG_LEVEL: 'debug',
    INTROSPECTION: 'true',
    ...options.env,
  });
  const sandboxed = applySandbox(base, emulator);
  const config = options.configure ? options.configure(sandboxed) : sandboxed;

  const logLines: string[] = [];
  const logger = capturingLogger(logLines, 'debug');
  const metrics = createMetrics({ defaultMetrics: false });
  const real: UpstreamHttp = createUpstreamHttp({ extraCaPem: config.extraCaPem, requestTimeoutMs: config.limits.upstreamTimeoutMs });
  const upstream: UpstreamHttp = options.upstream ? options.upstream(real) : real;
  const identity = await createGraphIdentity(config, { logger, metrics, upstream });
  // The composition src/app.ts uses: with CALLER_AUTH=entra, containments refuse the user's earlier tokens here too.
  const { close: closeCallerAuthentication, ...callerAuthentication } = await openCallerAuthentication(config, {
    upstream,
    logger,
    tenantId: emulator.tenantId,
  });
  const gateway = await createGateway({ config, logger, metrics, upstream, identity, ...callerAuthentication, ...options.deps });
  const url = await gateway.listen();

  return {
    url,
    emulator,
    config,
    gateway,
    identity,
    metrics,
    logger,
    logLines,
    logRecords: (msg) => logRecordsOf(logLines).filter((record) => record.msg === msg),
    async graphql(query, variables, headers) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
      });
      const text = await res.text();
      let body: { data?: any; errors?: any };
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`gateway answered ${res.status} with a non-JSON body: ${text.slice(0, 200)}`);
      }
      return { status: res.status, headers: res.headers, data: body.data, errors: body.errors };
    },
    async close() {
      await gateway.close();
      await closeCallerAuthentication();
      await identity.close?.();
      await real.close();
      if (ownsEmulator) await emulator.close();
    },
  };
}

/**
 * `configure` for a gateway that acts as another app registered in the emulator (registerApp), with
 * its first secret, instead of the sandbox's own: how a test gives the gateway fewer (or other) Graph
 * permissions.
 */
export function actingAsApp(app: { appId: string; secrets: string[] }): (config: Config) => Config {
  return (config) => ({
    ...config,
    selfDeployed: { ...config.selfDeployed!, clientId: app.appId, credential: { kind: 'secret', secret: new Secret(app.secrets[0]!) } },
  });
}
