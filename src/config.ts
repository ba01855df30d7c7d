import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { isGuid } from './guid.js';
import { ALL_PERMISSIONS, DEFAULT_API_KEY_PERMISSIONS, isPermission, type Permission } from './permissions.js';
import { Secret, type ApiKeyEntry, type AzureCloud, type CallerAuthMode, type Config, type DeploymentMode, type GraphAuthFlow } from './config-types.js';

export { Secret } from './config-types.js';
export type { Config } from './config-types.js';

/** Every problem found in the environment at once, each naming the variable, its purpose and an example. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Login and Graph hosts per national cloud (learn.microsoft.com/graph/deployments). */
export const CLOUDS: Record<AzureCloud, { authorityHost: string; graphEndpoint: string }> = {
  AzurePublic: { authorityHost: 'https://login.microsoftonline.com', graphEndpoint: 'https://graph.microsoft.com' },
  AzureUSGovernment: { authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://graph.microsoft.us' },
  AzureUSGovernmentDoD: { authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://dod-graph.microsoft.us' },
  AzureChina: { authorityHost: 'https://login.chinacloudapi.cn', graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn' },
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1';
  return false;
}

/**
 * Reads the environment into one validated Config. The only place that reads process.env (it is
 * passed in, so tests give their own). Collects every problem before failing.
 */
export interface LoadConfigOptions {
  /**
   * `gateway` (default): the configuration of a serving gateway, which must say who may call it.
   * `tool`: a command-line tool reading the gateway's configuration (auth:reset, auth:login-url,
   * doctor); it serves no caller, so a missing CALLER_AUTH is not its problem.
   */
  purpose?: 'gateway' | 'tool';
}

export function loadConfig(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T, purpose: string): T => {
    const v = get(name);
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    problems.push(`${name}=${JSON.stringify(v)} is not valid: ${purpose}; one of ${allowed.join(', ')} (e.g. ${name}=${allowed[0]})`);
    return fallback;
  };
  const int = (name: string, fallback: number, min: number, max: number, purpose: string): number => {
    const v = get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(v)} is not valid: ${purpose}; a whole number from ${min} to ${max} (e.g. ${name}=${fallback})`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean, purpose: string): boolean => {
    const v = get(name);
    if (v === undefined) return fallback;
    if (['true', '1', 'yes'].includes(v.toLowerCase())) return true;
    if (['false', '0', 'no'].includes(v.toLowerCase())) return false;
    problems.push(`${name}=${JSON.stringify(v)} is not valid: ${purpose}; true or false (e.g. ${name}=${fallback})`);
    return fallback;
  };
  const httpsUrl = (name: string, purpose: string, example: string): string | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    try {
      const u = new URL(v);
      if (u.protocol !== 'https:') throw new Error('not https');
      return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
    } catch {
      problems.push(`${name}=${JSON.stringify(v)} is not valid: ${purpose}; an https URL (e.g. ${name}=${example})`);
      return undefined;
    }
  };

  const host = get('HOST') ?? '127.0.0.1';
  const port = int('PORT', 4000, 0, 65535, 'the port the gateway listens on');

  const production = get('NODE_ENV') === 'production';
  const hasTenantCredentials = ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH'].some((n) => get(n));
  const hasBrokerCredentials = ['BROKER_ID', 'BROKER_TOKEN', 'BROKER_KEY'].some((n) => get(n));
  const sandboxRaw = get('SANDBOX');
  // Production never falls into the sandbox by accident (a container whose Azure variables came
  // out empty must not quietly serve an emulator tenant): there it takes SANDBOX=true.
  let sandbox = !production && !hasTenantCredentials && !hasBrokerCredentials;
  if (sandboxRaw !== undefined) {
    if (['true', '1', 'yes'].includes(sandboxRaw.toLowerCase())) sandbox = true;
    else if (['false', '0', 'no'].includes(sandboxRaw.toLowerCase())) sandbox = false;
    else problems.push(`SANDBOX=${JSON.stringify(sandboxRaw)} is not valid: starts the embedded emulator tenant; true or false (e.g. SANDBOX=true)`);
  }
  const noCredentialsInProduction = production && sandboxRaw === undefined && !hasTenantCredentials && !hasBrokerCredentials;
  if (noCredentialsInProduction)
    problems.push(
      'No Microsoft Graph credentials are set and NODE_ENV=production never starts the sandbox on its own: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) for your tenant, BROKER_URL, BROKER_ID, BROKER_TOKEN and BROKER_KEY for hosted mode, or SANDBOX=true for the embedded emulator tenant',
    );

  const deploymentMode = oneOf<DeploymentMode>(
    'DEPLOYMENT_MODE',
    ['self-deployed', 'hosted'],
    hasBrokerCredentials && !hasTenantCredentials ? 'hosted' : 'self-deployed',
    'how the gateway gets Graph tokens (your own Entra app, or the hosted OAuth broker)',
  );
  const cloud = oneOf<AzureCloud>(
    'AZURE_CLOUD',
    ['AzurePublic', 'AzureUSGovernment', 'AzureUSGovernmentDoD', 'AzureChina'],
    'AzurePublic',
    'the national cloud of your tenant',
  );
  const authorityHost =
    httpsUrl('AZURE_AUTHORITY_HOST', 'the Entra ID login host (overrides AZURE_CLOUD)', 'https://login.microsoftonline.com') ?? CLOUDS[cloud].authorityHost;
  const graphEndpointRaw = httpsUrl(
    'GRAPH_ENDPOINT',
    'the Microsoft Graph base URL, with or without /v1.0 (overrides AZURE_CLOUD)',
    'https://graph.microsoft.com',
  );
  // The gateway puts the API version in every path itself, so a copied `…/v1.0` (what Graph's
  // documentation and `npm run emulator` show) is normalised away rather than doubled; another
  // version would change the API under the gateway and is refused.
  if (graphEndpointRaw && /\/beta$/i.test(graphEndpointRaw))
    problems.push(
      `GRAPH_ENDPOINT=${JSON.stringify(graphEndpointRaw)} is not valid: the gateway calls Graph v1.0; give the base URL (e.g. GRAPH_ENDPOINT=https://graph.microsoft.com)`,
    );
  const graphEndpoint = graphEndpointRaw?.replace(/\/v1\.0$/i, '') ?? CLOUDS[cloud].graphEndpoint;
  const flow = oneOf<GraphAuthFlow>(
    'GRAPH_AUTH_FLOW',
    ['client-credentials', 'authorization-code', 'on-behalf-of'],
    get('AUTH_CODE') ? 'authorization-code' : 'client-credentials',
    'how a self-deployed app gets Graph tokens',
  );

  let selfDeployed: Config['selfDeployed'];
  let hosted: Config['hosted'];
  if (!sandbox && !noCredentialsInProduction && deploymentMode === 'self-deployed') {
    const tenantId = get('AZURE_TENANT_ID');
    const clientId = get('AZURE_CLIENT_ID');
    const secret = get('AZURE_CLIENT_SECRET');
    const certPath = get('AZURE_CLIENT_CERTIFICATE_PATH');
    if (!tenantId)
      problems.push(
        'AZURE_TENANT_ID is missing: the directory (tenant) id of your Entra app registration, a GUID or a verified domain (e.g. AZURE_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47)',
      );
    else if (['common', 'organizations', 'consumers'].includes(tenantId.toLowerCase()))
      problems.push(
        `AZURE_TENANT_ID=${tenantId} is not valid: app-only Graph tokens need a specific tenant, a GUID or a verified domain (e.g. AZURE_TENANT_ID=contoso.onmicrosoft.com)`,
      );
    if (!clientId)
      problems.push(
        'AZURE_CLIENT_ID is missing: the application (client) id of your Entra app registration (e.g. AZURE_CLIENT_ID=0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f)',
      );
    else if (!isGuid(clientId))
      problems.push(
        `AZURE_CLIENT_ID=${JSON.stringify(clientId)} is not valid: the application (client) id is a GUID (e.g. AZURE_CLIENT_ID=0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f)`,
      );
    let credential: NonNullable<Config['selfDeployed']>['credential'] | undefined;
    if (secret && certPath)
      problems.push(
        'AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are both set: give exactly one app credential (a client secret, or a PEM file with certificate and private key)',
      );
    else if (secret) credential = { kind: 'secret', secret: new Secret(secret) };
    else if (certPath) {
      const resolved = path.resolve(certPath);
      if (!existsSync(resolved) || !statSync(resolved).isFile())
        problems.push(
          `AZURE_CLIENT_CERTIFICATE_PATH=${certPath} does not exist: a PEM file holding your app's certificate and its private key (e.g. AZURE_CLIENT_CERTIFICATE_PATH=/run/secrets/graph-app.pem)`,
        );
      else {
        const pem = readFileSync(resolved, 'utf8');
        if (!pem.includes('-----BEGIN CERTIFICATE-----') || !/-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem))
          problems.push(
            `AZURE_CLIENT_CERTIFICATE_PATH=${certPath} must hold both a PEM certificate and its PEM private key (e.g. cat cert.pem key.pem > graph-app.pem)`,
          );
        else credential = { kind: 'certificate', path: resolved };
      }
    } else
      problems.push(
        'AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH is missing: the credential of your Entra app registration (e.g. AZURE_CLIENT_SECRET=<secret value from Certificates & secrets>)',
      );
    const authCode = get('AUTH_CODE');
    const redirectUri = get('REDIRECT_URI');
    if (flow === 'authorization-code') {
      if (!redirectUri)
        problems.push(
          'REDIRECT_URI is missing: the authorization-code flow needs the redirect URI registered on your app (e.g. REDIRECT_URI=http://localhost:4000/auth/callback)',
        );
      else {
        try {
          new URL(redirectUri);
        } catch {
          problems.push(
            `REDIRECT_URI=${JSON.stringify(redirectUri)} is not a URL: the redirect URI registered on your app (e.g. REDIRECT_URI=http://localhost:4000/auth/callback)`,
          );
        }
      }
      if (authCode?.includes('session_state'))
        problems.push('AUTH_CODE contains "session_state": copy only the value of code= from the redirect URL, without &session_state=...');
    }
    if (tenantId && clientId && credential) {
      selfDeployed = { tenantId, clientId, credential, flow, ...(authCode ? { authCode: new Secret(authCode) } : {}), ...(redirectUri ? { redirectUri } : {}) };
    }
  }
  if (!sandbox && !noCredentialsInProduction && deploymentMode === 'hosted') {
    const brokerUrl = httpsUrl('BROKER_URL', 'the hosted OAuth broker token URL', 'https://oproxy.example.com/obtain-token');
    const registrationId = get('BROKER_ID');
    const token = get('BROKER_TOKEN');
    const key = get('BROKER_KEY');
    if (!get('BROKER_URL'))
      problems.push(
        'BROKER_URL is missing: hosted mode gets Graph tokens from the OAuth broker at this URL (e.g. BROKER_URL=https://oproxy.example.com/obtain-token)',
      );
    if (!registrationId) problems.push('BROKER_ID is missing: hosted mode needs the "ID" the broker consent flow gave you (e.g. BROKER_ID=3f9a...)');
    if (!token) problems.push('BROKER_TOKEN is missing: hosted mode needs the "Token" the broker consent flow gave you (your tenant id)');
    if (!key) problems.push('BROKER_KEY is missing: hosted mode needs the "Key" the broker consent flow gave you (base64, 32 bytes)');
    else if (Buffer.from(key, 'base64').length !== 32)
      problems.push('BROKER_KEY is not valid: the "Key" from the broker consent flow is base64 of 32 bytes (e.g. BROKER_KEY=q1w2e3...=)');
    if (brokerUrl && registrationId && token && key) hosted = { brokerUrl, registrationId, token: new Secret(token), key: new Secret(key) };
  }

  const dataDir = path.resolve(get('DATA_DIR') ?? '.data');
  const cacheUrl = get('CACHE_URL');
  let cache: Config['cache'] = { kind: 'default' };
  if (cacheUrl) {
    if (cacheUrl === 'memory' || cacheUrl === 'memory://') cache = { kind: 'memory' };
    else if (cacheUrl.startsWith('sqlite://')) cache = { kind: 'sqlite', path: path.resolve(cacheUrl.slice('sqlite://'.length)) };
    else if (/^rediss?:\/\//.test(cacheUrl)) cache = { kind: 'redis', url: cacheUrl };
    else
      problems.push(
        `CACHE_URL=${JSON.stringify(cacheUrl)} is not valid: where tokens are cached; memory, sqlite://path or redis://host:port (e.g. CACHE_URL=redis://127.0.0.1:6379)`,
      );
  }
  const tokenCacheKeyRaw = get('TOKEN_CACHE_KEY');
  if (tokenCacheKeyRaw !== undefined && tokenCacheKeyRaw.length < 16)
    problems.push(
      'TOKEN_CACHE_KEY is too short: it encrypts cached tokens at rest; at least 16 characters, ideally 32 random bytes in base64 (e.g. TOKEN_CACHE_KEY=$(openssl rand -base64 32))',
    );
  if (!sandbox && cache.kind !== 'memory' && !tokenCacheKeyRaw && (flow === 'authorization-code' || deploymentMode === 'hosted' || cache.kind === 'redis'))
    problems.push('TOKEN_CACHE_KEY is missing: refresh tokens are persisted and must be encrypted at rest (e.g. TOKEN_CACHE_KEY=$(openssl rand -base64 32))');

  const cursorKeyRaw = get('CURSOR_KEY');
  if (cursorKeyRaw !== undefined && Buffer.from(cursorKeyRaw, 'base64').length < 32)
    problems.push(
      'CURSOR_KEY is too short: it signs paging cursors so they survive restarts and work across replicas; base64 of at least 32 random bytes (e.g. CURSOR_KEY=$(openssl rand -base64 32))',
    );

  const callerMode = oneOf<CallerAuthMode>('CALLER_AUTH', ['none', 'entra', 'api-key'], 'none', 'who may call the gateway');
  let callerAuth: Config['callerAuth'] = { mode: 'none' };
  // `none` is a default only for the sandbox; a real tenant's gateway is never open by omission.
  if (get('CALLER_AUTH') === undefined && !sandbox && !noCredentialsInProduction && options.purpose !== 'tool')
    problems.push(
      'CALLER_AUTH is missing: outside the sandbox, say who may call the gateway: CALLER_AUTH=api-key (with API_KEYS), CALLER_AUTH=entra (Entra access tokens, with API_AUDIENCE), or CALLER_AUTH=none (no caller authentication: loopback only, and every local caller holds every permission)',
    );
  if (callerMode === 'none' && !isLoopbackHost(host))
    problems.push(
      `CALLER_AUTH=none with HOST=${host} is refused: without caller authentication the gateway may only listen on loopback; set CALLER_AUTH=entra or CALLER_AUTH=api-key (e.g. CALLER_AUTH=api-key API_KEYS=...) or HOST=127.0.0.1`,
    );
  if (callerMode === 'entra') {
    const raw = get('API_AUDIENCE');
    if (!raw)
      problems.push(
        "API_AUDIENCE is missing: with CALLER_AUTH=entra, the audiences callers' tokens are issued for, comma separated: your API's Application ID URI (v1.0 tokens) and/or its client id (v2.0 tokens) (e.g. API_AUDIENCE=api://msgraph-user-gateway,0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f)",
      );
    else {
      const audiences = parseAudiences(raw, problems);
      if (audiences.length > 0) callerAuth = { mode: 'entra', audiences };
    }
  }
  if (callerMode === 'api-key') {
    const raw = get('API_KEYS');
    const keys = raw ? parseApiKeys(raw, problems) : [];
    if (!raw)
      problems.push(
        'API_KEYS is missing: with CALLER_AUTH=api-key, the accepted keys as name:sha256hex:Permission+Permission, comma separated (e.g. API_KEYS=soar:9f86d08...:Users.Read+Users.Terminate)',
      );
    callerAuth = { mode: 'api-key', keys };
  }

  const signInAccount = get('SIGN_IN_ACCOUNT');
  if (signInAccount !== undefined) {
    if (!isGuid(signInAccount) && !/^[^@\s]+@[^@\s]+$/.test(signInAccount))
      problems.push(
        `SIGN_IN_ACCOUNT=${JSON.stringify(signInAccount)} is not valid: the only account /auth/login may sign in, an object id (GUID) or a userPrincipalName (e.g. SIGN_IN_ACCOUNT=gateway-operator@contoso.com)`,
      );
    else if (flow !== 'authorization-code')
      problems.push('SIGN_IN_ACCOUNT is set but GRAPH_AUTH_FLOW is not authorization-code: only the authorization-code flow signs an account in');
  }

  const extraCaPem: string[] = [];
  const extraCaFile = get('NODE_EXTRA_CA_CERTS');
  if (extraCaFile) {
    if (existsSync(extraCaFile)) extraCaPem.push(readFileSync(extraCaFile, 'utf8'));
    else problems.push(`NODE_EXTRA_CA_CERTS=${extraCaFile} does not exist: a PEM bundle of extra CAs to trust (e.g. NODE_EXTRA_CA_CERTS=/etc/ssl/corp-ca.pem)`);
  }
  const httpsProxy = get('HTTPS_PROXY') ?? get('https_proxy');
  if (httpsProxy) {
    try {
      if (!['http:', 'https:'].includes(new URL(httpsProxy).protocol)) throw new Error('not http(s)');
    } catch {
      // The value is not echoed: a proxy URL may carry credentials.
      problems.push('HTTPS_PROXY is not an http(s) URL: the proxy for Graph, login and broker calls (e.g. HTTPS_PROXY=http://proxy.corp:3128)');
    }
  }

  const introspectionRaw = get('INTROSPECTION');
  const config: Config = {
    listen: { host, port },
    sandbox: {
      enabled: sandbox,
      seed: int('SANDBOX_SEED', 42, 0, 2 ** 31 - 1, 'the seed of the emulator tenant'),
      userCount: int('SANDBOX_USERS', 1000, 10, 100_000, 'how many users the emulator tenant holds'),
      flow,
      emulatorPort: int('EMULATOR_PORT', 0, 0, 65535, 'the port of the embedded emulator tenant (0 picks a free one)'),
    },
    deploymentMode,
    cloud,
    authorityHost,
    graphEndpoint,
    ...(selfDeployed ? { selfDeployed } : {}),
    ...(hosted ? { hosted } : {}),
    dataDir,
    cache,
    ...(tokenCacheKeyRaw ? { tokenCacheKey: new Secret(tokenCacheKeyRaw) } : {}),
    ...(cursorKeyRaw && Buffer.from(cursorKeyRaw, 'base64').length >= 32 ? { cursorKey: new Secret(cursorKeyRaw) } : {}),
    callerAuth,
    extraCaPem,
    ...(httpsProxy ? { httpsProxy } : {}),
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, 'info', 'how much the gateway logs'),
    introspection: introspectionRaw === undefined ? !production : introspectionRaw === 'true',
    federation: oneOf('FEDERATION', ['false', 'true'], 'false', 'serves the Apollo Federation subgraph entry points _entities and _service') === 'true',
    corsOrigins: (get('CORS_ORIGINS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    limits: {
      maxDepth: int('MAX_QUERY_DEPTH', 10, 2, 100, 'the deepest GraphQL selection allowed'),
      maxAliases: int('MAX_ALIASES', 100, 1, 1000, 'aliases allowed in one operation'),
      maxTokens: int('MAX_TOKENS', 5000, 100, 100_000, 'GraphQL tokens allowed in one document'),
      maxDirectives: int('MAX_DIRECTIVES', 50, 1, 1000, 'directives allowed in one operation'),
      maxBodyBytes: int('MAX_BODY_BYTES', 1_000_000, 1024, 50_000_000, 'the largest request body accepted'),
      maxUpstreamRequests: int('MAX_UPSTREAM_REQUESTS', 50, 1, 10_000, 'the upstream request budget of one operation'),
      upstreamTimeoutMs: int('UPSTREAM_TIMEOUT_MS', 15_000, 100, 300_000, 'timeout of one Graph call in ms'),
      operationTimeoutMs: int('OPERATION_TIMEOUT_MS', 30_000, 100, 600_000, 'timeout of one GraphQL operation in ms'),
      maxRetries: int('MAX_RETRIES', 3, 0, 10, 'retries of a throttled or failed idempotent Graph call'),
    },
    graphGovernor: {
      // The sandbox tenant's size is known, so its tier is too (docs/graph-facts.md#throttling); a real tenant starts at the smallest.
      resourceUnitsPer10s: int(
        'GRAPH_RU_PER_10S',
        sandbox ? directoryTierOf(Number(get('SANDBOX_USERS') ?? 1000) || 1000) : 3_500,
        1,
        10_000_000,
        "the Graph tenant's directory resource units per 10 s (3500 below 50 users, 5000 up to 500, 8000 above)",
      ),
      writesPer150s: int('GRAPH_WRITES_PER_150S', 3_000, 1, 10_000_000, "the Graph tenant's directory writes per 150 s"),
      maxConcurrent: int('GRAPH_MAX_CONCURRENCY', 16, 1, 10_000, 'Graph calls in flight at once per tenant'),
      maxWaitMs: int('GRAPH_MAX_WAIT_MS', 10_000, 0, 600_000, 'how long a Graph call may queue for rate capacity before the caller gets THROTTLED, in ms'),
    },
    authFailures: {
      limit: int('AUTH_FAILURE_LIMIT', 10, 1, 1_000_000, 'failed caller authentications allowed per client address in AUTH_FAILURE_WINDOW_SECONDS'),
      windowSeconds: int('AUTH_FAILURE_WINDOW_SECONDS', 300, 1, 86_400, 'the window of AUTH_FAILURE_LIMIT, in seconds (the address is refused until it ends)'),
    },
    ...(signInAccount ? { signInAccount } : {}),
    drainTimeoutMs: int(
      'DRAIN_TIMEOUT_MS',
      8_000,
      0,
      600_000,
      'on SIGTERM/SIGINT, how long in-flight operations may finish before they are stopped, in ms (keep it below your orchestrator grace period: Docker stops after 10 s)',
    ),
    playground: bool('PLAYGROUND', !production, 'serves the GraphiQL playground at GET /graphql'),
    coalesceWindowMs: int(
      'COALESCE_WINDOW_MS',
      1,
      0,
      10,
      'how long a user lookup by id waits for concurrent lookups of other operations to share one Graph call, in ms (0 turns coalescing off)',
    ),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * API_AUDIENCE: a comma-separated list of App ID URIs (a URI such as api://contoso-gateway or
 * https://contoso.com/gateway) and client ids (GUIDs). Which one a token carries depends on the
 * token version the API's registration asks for (docs/graph-facts.md#caller-tokens).
 */
function parseAudiences(raw: string, problems: string[]): string[] {
  const audiences: string[] = [];
  for (const value of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (isGuid(value)) audiences.push(value.toLowerCase());
    else if (/\/\.default$/i.test(value))
      problems.push(
        `API_AUDIENCE entry ${JSON.stringify(value)} is a scope, not an audience: drop "/.default" (e.g. API_AUDIENCE=${value.replace(/\/\.default$/i, '')})`,
      );
    else if (/^[a-z][a-z0-9+.-]*:\S+$/i.test(value)) audiences.push(value.replace(/\/+$/, ''));
    else
      problems.push(
        `API_AUDIENCE entry ${JSON.stringify(value)} is not valid: an Application ID URI (e.g. api://msgraph-user-gateway) or an application (client) id GUID`,
      );
  }
  return [...new Set(audiences)];
}

function parseApiKeys(raw: string, problems: string[]): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [id, hash, perms] = part.split(':');
    if (!id || !hash || !/^[0-9a-f]{64}$/i.test(hash)) {
      problems.push(
        `API_KEYS entry "${id ?? ''}:..." is not valid: each key is name:sha256hex[:Permission+Permission] where sha256hex is the SHA-256 of the key in hex (e.g. API_KEYS=soar:$(printf %s "$KEY" | sha256sum | cut -c1-64):Users.Read+Users.Terminate)`,
      );
      continue;
    }
    // A key without a list may read profiles and nothing else (docs/security.md#permissions).
    const permissions = new Set<Permission>();
    for (const p of perms === undefined ? DEFAULT_API_KEY_PERMISSIONS : perms.split('+')) {
      if (isPermission(p)) permissions.add(p);
      else problems.push(`API_KEYS entry "${id}" names an unknown permission "${p}": one of ${ALL_PERMISSIONS.join(', ')}`);
    }
    entries.push({ id, sha256: Buffer.from(hash, 'hex'), permissions });
  }
  return entries;
}

/** Directory RU per 10 s for an app in a tenant of `users` users (docs/graph-facts.md#throttling). */
export function directoryTierOf(users: number): number {
  return users < 50 ? 3_500 : users <= 500 ? 5_000 : 8_000;
}

/** SHA-256 hex of an API key, as API_KEYS expects it. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * For command-line entry points (npm start, auth:*): the Config, or the list of problems on
 * stderr and exit code 2, the conventional "usage error".
 */
export function loadConfigOrExit(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  try {
    return loadConfig(env, options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
