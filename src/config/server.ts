import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';
import type { Config } from '../config-types.js';
import { commaSeparated, type EnvReader } from './env-reader.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1';
  return false;
}

/** Where the gateway listens. */
export function readListen(env: EnvReader): Config['listen'] {
  const host = env.get('HOST') ?? '127.0.0.1';
  const port = env.int('PORT', 4000, 0, 65535, 'the port the gateway listens on');
  if (env.get('METRICS_PORT') === undefined) return { host, port };
  const metricsPort = env.int('METRICS_PORT', 9464, 0, 65535, 'the port /metrics is served on instead of PORT (docs/operations.md#metrics)');
  if (metricsPort !== 0 && metricsPort === port)
    env.problem(`METRICS_PORT=${metricsPort} is the gateway's PORT: /metrics moves to its own port, so it needs another one (e.g. METRICS_PORT=9464)`);
  return { host, port, metricsPort };
}

/** Which kinds of Graph credentials the environment holds at all (they pick the defaults). */
export interface CredentialsPresent {
  tenant: boolean;
  broker: boolean;
}

export function credentialsPresent(env: EnvReader): CredentialsPresent {
  return {
    tenant: (['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH'] as const).some((n) => env.get(n)),
    broker: (['BROKER_ID', 'BROKER_TOKEN', 'BROKER_KEY'] as const).some((n) => env.get(n)),
  };
}

/**
 * Whether the embedded emulator tenant serves, and whether production was left without any Graph
 * credentials (then the credential sections are not read: that one problem says it all).
 */
export function readSandboxChoice(env: EnvReader, production: boolean, present: CredentialsPresent): { sandbox: boolean; noCredentialsInProduction: boolean } {
  const sandboxRaw = env.get('SANDBOX');
  // Production never falls into the sandbox by accident (a container whose Azure variables came
  // out empty must not quietly serve an emulator tenant): there it takes SANDBOX=true.
  let sandbox = !production && !present.tenant && !present.broker;
  if (sandboxRaw !== undefined) {
    if (['true', '1', 'yes'].includes(sandboxRaw.toLowerCase())) sandbox = true;
    else if (['false', '0', 'no'].includes(sandboxRaw.toLowerCase())) sandbox = false;
    else env.problem(`SANDBOX=${JSON.stringify(sandboxRaw)} is not valid: starts the embedded emulator tenant; true or false (e.g. SANDBOX=true)`);
  }
  // The sandbox ignores credentials: with both, a deployment meant for a real tenant would serve the
  // emulator's users and report containment done on them, with /readyz green.
  if (sandbox && sandboxRaw !== undefined && (present.tenant || present.broker))
    env.problem(
      'SANDBOX=true with Microsoft Graph credentials (AZURE_TENANT_ID/AZURE_CLIENT_ID or BROKER_*) is refused: the sandbox would ignore them and serve the embedded emulator tenant; remove SANDBOX to use your tenant, or the credentials to try the sandbox',
    );
  const noCredentialsInProduction = production && sandboxRaw === undefined && !present.tenant && !present.broker;
  if (noCredentialsInProduction)
    env.problem(
      'No Microsoft Graph credentials are set and NODE_ENV=production never starts the sandbox on its own: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) for your tenant, BROKER_URL, BROKER_ID, BROKER_TOKEN and BROKER_KEY for hosted mode, or SANDBOX=true for the embedded emulator tenant',
    );
  return { sandbox, noCredentialsInProduction };
}

/** The embedded emulator tenant's section (its flow is the gateway's). */
export function readSandbox(env: EnvReader, enabled: boolean, flow: Config['sandbox']['flow']): Config['sandbox'] {
  return {
    enabled,
    seed: env.int('SANDBOX_SEED', 42, 0, 2 ** 31 - 1, 'the seed of the emulator tenant'),
    userCount: env.int('SANDBOX_USERS', 1000, 10, 100_000, 'how many users the emulator tenant holds'),
    flow,
    emulatorPort: env.int('EMULATOR_PORT', 0, 0, 65535, 'the port of the embedded emulator tenant (0 picks a free one)'),
  };
}

export function readLogLevel(env: EnvReader): Config['logLevel'] {
  return env.oneOf('LOG_LEVEL', LOG_LEVELS, 'info', 'how much the gateway logs');
}

/** What the GraphQL endpoint shows beyond answering: introspection, browser origins, the playground. */
export function readIntrospection(env: EnvReader, production: boolean): boolean {
  const introspectionRaw = env.get('INTROSPECTION');
  return introspectionRaw === undefined ? !production : introspectionRaw === 'true';
}

/** Whether the Apollo Federation 2 subgraph entry points (`_entities`, `_service`) are served. */
export function readFederation(env: EnvReader): boolean {
  return env.oneOf('FEDERATION', ['false', 'true'], 'false', 'serves the Apollo Federation subgraph entry points _entities and _service') === 'true';
}

/**
 * CORS_ORIGINS: the browser origins allowed to call (and, with CALLER_AUTH=none, the only foreign
 * ones served at all: src/http/loopback-guard.ts). `null` is refused: it is the Origin of every
 * opaque origin, so any page on any site sends it from a sandboxed iframe or a data: URL. Listed,
 * it let a hostile page read the directory through the loopback trust, with every permission
 * (docs/security.md#caller-authentication-defaults). Every other entry must be an origin exactly as a
 * browser sends it (`https://app.example.com`, `http://localhost:3000`) or `*`: the `Origin` header
 * is compared as text, so an entry with a path, a trailing slash or capitals never matched, and the
 * operator's frontend was refused with nothing saying why.
 */
export function readCorsOrigins(env: EnvReader): string[] {
  const origins = commaSeparated(env.get('CORS_ORIGINS') ?? '');
  if (origins.includes('null')) {
    env.problem(
      'CORS_ORIGINS lists "null", which is not one site: browsers send Origin: null from sandboxed iframes, data: URLs and file:// pages of any site, so every web page could call the gateway and read its answers (with CALLER_AUTH=none, holding every permission). Serve the page from an http(s) origin and list that origin.',
    );
  }
  for (const entry of origins) {
    if (entry === 'null' || entry === '*') continue;
    const origin = originOfEntry(entry);
    if (origin === entry) continue;
    env.problem(
      `CORS_ORIGINS entry ${JSON.stringify(entry)} is not an origin as browsers send it (scheme, host and port only, lower case)${origin ? `: list ${JSON.stringify(origin)}` : ': list entries like https://app.example.com'}`,
    );
  }
  return origins;
}

/** The http(s) origin an entry names, or undefined when it names none. */
function originOfEntry(entry: string): string | undefined {
  try {
    const url = new URL(entry);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * TRUSTED_PROXIES: the reverse proxies (addresses, CIDRs, or `loopback`, `linklocal`, `uniquelocal`)
 * whose `X-Forwarded-For` names the client (src/http/client-address.ts); empty = the TCP peer is the client.
 */
export function readTrustedProxies(env: EnvReader): string[] {
  const entries = commaSeparated(env.get('TRUSTED_PROXIES') ?? '');
  for (const entry of entries) {
    try {
      proxyaddr.compile(entry);
    } catch {
      env.problem(
        `TRUSTED_PROXIES entry ${JSON.stringify(entry)} is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal: the reverse proxies whose X-Forwarded-For names the client (e.g. TRUSTED_PROXIES=10.0.0.0/8)`,
      );
    }
  }
  return entries;
}

export function readPlayground(env: EnvReader, production: boolean): boolean {
  return env.bool('PLAYGROUND', !production, 'serves the GraphiQL playground at GET /graphql');
}
