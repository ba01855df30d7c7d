/**
 * The typed Config, built once by `loadConfig(env)` in `src/config.ts`. Nothing else reads
 * process.env. Secrets are kept as `Secret` so they never print by accident.
 */
import type { Permission } from './permissions.js';
import type { TracingConfig } from './telemetry/config.js';

/** Wraps a secret so `String()`, JSON and util.inspect print `[redacted]`. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}

export type DeploymentMode = 'self-deployed' | 'hosted';
export type AzureCloud = 'AzurePublic' | 'AzureUSGovernment' | 'AzureUSGovernmentDoD' | 'AzureChina';
export type GraphAuthFlow = 'client-credentials' | 'authorization-code' | 'on-behalf-of';
export type CallerAuthMode = 'none' | 'entra' | 'api-key';

export interface ApiKeyEntry {
  id: string;
  /** SHA-256 of the key, hex. */
  sha256: Buffer;
  permissions: ReadonlySet<Permission>;
}

export interface Config {
  /**
   * Where the gateway listens. `metricsPort`: /metrics is served there alone (same host), and no
   * longer on `port`, so an ingress routing `port` never exposes it (METRICS_PORT; absent: on `port`).
   */
  listen: { host: string; port: number; metricsPort?: number };
  /** Embedded emulator tenant (the no-configuration default). */
  sandbox: { enabled: boolean; seed: number; userCount: number; flow: GraphAuthFlow; emulatorPort: number };
  deploymentMode: DeploymentMode;
  cloud: AzureCloud;
  /** e.g. https://login.microsoftonline.com (no trailing slash). */
  authorityHost: string;
  /** e.g. https://graph.microsoft.com (no trailing slash, no version). */
  graphEndpoint: string;
  selfDeployed?: {
    tenantId: string;
    clientId: string;
    credential: { kind: 'secret'; secret: Secret } | { kind: 'certificate'; path: string };
    flow: GraphAuthFlow;
    authCode?: Secret;
    redirectUri?: string;
  };
  hosted?: { brokerUrl: string; registrationId: string; token: Secret; key: Secret };
  /** Directory for the embedded SQLite cache and emulator certificates. */
  dataDir: string;
  cache: { kind: 'default' } | { kind: 'memory' } | { kind: 'sqlite'; path: string } | { kind: 'redis'; url: string };
  tokenCacheKey?: Secret;
  /** TOKEN_CACHE_KEY_PREVIOUS: during a rotation, opens what the old key sealed (docs/operations.md#rotating-keys). */
  tokenCacheKeyPrevious?: Secret;
  /** HMAC key of paging cursors and delta tokens; shared by replicas so cursors survive restarts. */
  cursorKey?: Secret;
  /** CURSOR_KEY_PREVIOUS: during a rotation, cursors and delta tokens it signed are still accepted. */
  cursorKeyPrevious?: Secret;
  /**
   * `entra`: `audiences` are the accepted `aud` values of caller tokens, the API's App ID URI(s)
   * and/or its client id (docs/identity.md#caller-authentication).
   */
  callerAuth: { mode: 'none' } | { mode: 'entra'; audiences: string[] } | { mode: 'api-key'; keys: ApiKeyEntry[] };
  /** PEM CA bundles trusted for Graph, login and broker calls, on top of the system's. */
  extraCaPem: string[];
  httpsProxy?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  introspection: boolean;
  /**
   * Serve the Apollo Federation 2 subgraph entry points (`_entities`, `_service`), so a supergraph
   * can resolve `User` references (docs/querying.md#federation). Optional so hand-built Configs
   * keep compiling (absent = off).
   */
  federation?: boolean;
  corsOrigins: string[];
  /**
   * TRUSTED_PROXIES: reverse proxies whose `X-Forwarded-For` names the client, for the
   * failed-authentication limit and the logs (src/http/client-address.ts). Optional so hand-built
   * Configs keep compiling; absent or empty = the TCP peer is the client.
   */
  trustedProxies?: string[];
  limits: {
    maxDepth: number;
    maxAliases: number;
    maxTokens: number;
    maxDirectives: number;
    maxBodyBytes: number;
    /** Upstream request budget per operation (OPERATION_TOO_COMPLEX above it). */
    maxUpstreamRequests: number;
    /**
     * Representations the `_entities` fields of one operation may carry together
     * (MAX_ENTITY_REPRESENTATIONS, FEDERATION=true; OPERATION_TOO_COMPLEX above it). Optional so
     * hand-built Configs keep compiling; the plugin's default (1000) applies without it.
     */
    maxEntityRepresentations?: number;
    /**
     * Field values the answer of one operation may hold at most, estimated before execution
     * (MAX_RESULT_VALUES; OPERATION_TOO_COMPLEX above it). Optional so hand-built Configs keep
     * compiling; DEFAULT_MAX_RESULT_VALUES applies without it.
     */
    maxResultValues?: number;
    /**
     * Field values the answers of all executing operations may hold together, by the same estimate
     * (MAX_RESULT_VALUES_IN_FLIGHT; 429 THROTTLED past it, and past a caller's share of it).
     * Optional so hand-built Configs keep compiling; DEFAULT_MAX_RESULT_VALUES_IN_FLIGHT applies without it.
     */
    maxResultValuesInFlight?: number;
    /**
     * An answer must be written within ANSWER_WRITE_GRACE_MS plus its size at ANSWER_MIN_BYTES_PER_SECOND;
     * past it the connection is closed (src/http/answer-writer.ts). Optional so hand-built Configs
     * keep compiling; its defaults apply without them.
     */
    answerWriteGraceMs?: number;
    answerMinBytesPerSecond?: number;
    upstreamTimeoutMs: number;
    operationTimeoutMs: number;
    maxRetries: number;
    /** Client connections open at once (MAX_CONNECTIONS); past it a new connection is closed at once. */
    maxConnections: number;
    /**
     * Client connections open at once from one TCP peer (MAX_CONNECTIONS_PER_ADDRESS, an IPv6 peer by
     * its /64); the peers of TRUSTED_PROXIES are not counted. Optional so hand-built Configs keep
     * compiling; loadConfig always sets it (256 by default).
     */
    maxConnectionsPerAddress?: number;
    /**
     * The largest answer body read from Graph, Entra ID or the broker (MAX_UPSTREAM_RESPONSE_BYTES).
     * Optional so hand-built Configs keep compiling; the upstream layer's default applies without it.
     */
    maxUpstreamResponseBytes?: number;
  };
  /**
   * Per-tenant upstream governor (src/graph/governor.ts, docs/graph-facts.md#throttling). Optional so hand-built
   * Configs keep compiling; loadConfig always sets it, and absent fields take the governor's defaults.
   */
  graphGovernor?: {
    /** Directory RU per 10 s of the Graph tenant (3,500 / 5,000 / 8,000 by tenant size). */
    resourceUnitsPer10s: number;
    /** Directory writes per 150 s. */
    writesPer150s: number;
    /** Upstream calls in flight at once per tenant. */
    maxConcurrent: number;
    /** Longest a call queues for capacity before the caller gets THROTTLED. */
    maxWaitMs: number;
    /**
     * GRAPH_REPLICAS: replicas of this gateway for the same app and tenant. With a Redis CACHE_URL the
     * budget is shared and this is only the equal share each takes while Redis is unreachable (absent:
     * the count last seen in Redis); without Redis each replica always keeps 1/replicas (absent: 1).
     */
    replicas?: number;
  };
  /**
   * Failed caller authentications allowed per client address in a window before that address gets
   * THROTTLED (src/identity/authentication-failures.ts). Optional so hand-built Configs keep
   * compiling; absent = 10 per 300 s.
   */
  authFailures?: { limit: number; windowSeconds: number };
  /** SIGN_IN_ACCOUNT: the only account /auth/callback may sign in (object id or UPN); absent = any. */
  signInAccount?: string;
  /**
   * On SIGTERM/SIGINT, how long in-flight operations may finish before they are stopped with an
   * answer (DRAIN_TIMEOUT_MS; docs/operations.md#shutdown). Optional so hand-built Configs keep
   * compiling (absent = 8000).
   */
  drainTimeoutMs?: number;
  /** Whether GET /graphql serves the playground (PLAYGROUND; default off with NODE_ENV=production). Absent = on. */
  playground?: boolean;
  /**
   * Cross-request coalescing window of user lookups by object id, in ms (0 = off). Applies only to
   * an app-only Graph identity. Optional so hand-built Configs keep compiling (absent = off).
   */
  coalesceWindowMs?: number;
  /**
   * OpenTelemetry traces (OTEL_* variables; docs/operations.md#traces). Optional so hand-built
   * Configs keep compiling; absent or `none`: no SDK is started and the API's no-op tracer costs nothing.
   */
  tracing?: TracingConfig;
}
