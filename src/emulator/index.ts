import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import path from 'node:path';
import type { EmulatorContext } from './context.js';
import { FaultInjector, type FaultSettings } from './faults.js';
import { TokenSigner } from './keys.js';
import type { AppCertificate, TenantModel } from './model.js';
import { listen } from './server.js';
import { DEFAULT_GRAPH_SETTINGS, validateGraphSettings, type GraphSettings } from './graph-settings.js';
import { EmulatorStats } from './stats.js';
import { applyTapPolicy, ENTRA_DEFAULT_TAP_POLICY, type TemporaryAccessPassPolicy } from './tap-policy.js';
import { createTenant } from './tenant.js';
import { DirectoryThrottle, type ThrottlingSettings } from './throttling.js';
import { createCertificate, loadOrCreateTls } from './tls.js';

export interface EmulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  seed?: number;
  userCount?: number;
  /** Where the CA, server certificate and demo app certificate live (created on first start). */
  dataDir?: string;
  faults?: Partial<FaultSettings>;
  /** Entra's RU and write budgets per app+tenant (off unless set; docs/emulator.md#directory-throttling). */
  throttling?: Partial<ThrottlingSettings>;
  /** Graph surface switches (e.g. `expandPageCap: null` lifts the 100-item cap of `$expand` pages). */
  graph?: Partial<GraphSettings>;
  /**
   * The tenant's Temporary Access Pass policy, over Entra's defaults (src/emulator/tap-policy.ts;
   * docs/graph-facts.md#temporary-access-pass), e.g. `{ isUsableOnce: true }`.
   */
  temporaryAccessPassPolicy?: Partial<TemporaryAccessPassPolicy>;
  /** Injected clock for expiry tests. */
  now?: () => number;
  /**
   * `requestedAccessTokenVersion` of the gateway's API (the demo app): unset as in a new
   * registration (v1.0 tokens), or 2 for v2.0 tokens (docs/graph-facts.md#caller-tokens).
   */
  apiAccessTokenVersion?: 1 | 2;
  /** A redeemed refresh token answers invalid_grant (Entra keeps it valid); for tests that prove single use. */
  singleUseRefreshTokens?: boolean;
  /** Token requests per app and grant type per sliding minute before Entra throttles (default: never). */
  tokenRequestsPerMinute?: number | null;
  /**
   * Host in the issuer of v1.0 tokens. Entra's public cloud uses https://sts.windows.net, the
   * China cloud https://sts.chinacloudapi.cn (docs/graph-facts.md#national-clouds).
   */
  stsHost?: string;
}

export interface RunningEmulator {
  /** `https://127.0.0.1:PORT`: Graph endpoint and authority host alike. */
  origin: string;
  graphEndpoint: string;
  authorityHost: string;
  /** Hosted OAuth broker token URL (the XSOAR integration's "oproxy"). */
  brokerUrl: string;
  tenantId: string;
  caCertPem: string;
  caFile: string;
  /** PEM file holding the demo app's certificate and private key (certificate credentials). */
  demoAppCertificatePath: string;
  context: EmulatorContext;
  get tenant(): TenantModel;
  reset(): Promise<void>;
  close(): Promise<void>;
}

function thumbprints(certPem: string): AppCertificate {
  const x509 = new X509Certificate(certPem);
  const hexToB64url = (hex: string) => Buffer.from(hex.replace(/:/g, ''), 'hex').toString('base64url');
  return { certificatePem: certPem, thumbprintSha256: hexToB64url(x509.fingerprint256), thumbprintSha1: hexToB64url(x509.fingerprint) };
}

function loadOrCreateDemoAppCertificate(dataDir: string): { path: string; certificate: AppCertificate } {
  const file = path.join(dataDir, 'demo-app-credential.pem');
  if (!existsSync(file)) {
    const { certPem, keyPem } = createCertificate({ commonName: 'msgraph-user-gateway demo app', days: 730 });
    writeFileSync(file, `${keyPem}${certPem}`, { mode: 0o600 });
  }
  const pem = readFileSync(file, 'utf8');
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\s*/.exec(pem)?.[0];
  if (!certPem) throw new Error(`${file} holds no certificate`);
  return { path: file, certificate: thumbprints(certPem) };
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const dataDir = path.resolve(options.dataDir ?? path.join('.data', 'emulator'));
  const tls = loadOrCreateTls(dataDir);
  const demoCert = loadOrCreateDemoAppCertificate(dataDir);
  const tenantOptions = { seed: options.seed ?? 42, userCount: options.userCount ?? 1000 };
  // Checked once at start, so a bad option fails startEmulator rather than every reset.
  const tapPolicy = applyTapPolicy(ENTRA_DEFAULT_TAP_POLICY, options.temporaryAccessPassPolicy ?? {});
  const buildTenant = () => {
    const tenant = createTenant(tenantOptions);
    tenant.temporaryAccessPassPolicy = { ...tapPolicy };
    const demo = tenant.apps.get(tenant.wellKnown.demoAppId);
    demo?.certificates.push(demoCert.certificate);
    if (demo?.api && options.apiAccessTokenVersion !== undefined) demo.api.requestedAccessTokenVersion = options.apiAccessTokenVersion;
    return tenant;
  };
  const identityDefaults = () => ({
    singleUseRefreshTokens: options.singleUseRefreshTokens ?? false,
    tokenRequestsPerMinute: options.tokenRequestsPerMinute ?? null,
  });
  const stsHost = (options.stsHost ?? 'https://sts.windows.net').replace(/\/+$/, '');
  const tenant = buildTenant();
  const faults = new FaultInjector(options.faults);
  const graphDefaults: GraphSettings = { ...DEFAULT_GRAPH_SETTINGS, ...validateGraphSettings(options.graph ?? {}) };
  const ctx: EmulatorContext = {
    tenant,
    signer: await TokenSigner.create(),
    stats: new EmulatorStats(),
    faults,
    throttle: new DirectoryThrottle(options.throttling),
    graph: { ...graphDefaults },
    origin: '',
    issuer: `${stsHost}/${tenant.tenantId}/`,
    issuerV2: '',
    identity: identityDefaults(),
    graphAudiences: [],
    now: options.now ?? (() => Date.now()),
  };
  const reset = async () => {
    ctx.tenant = buildTenant();
    ctx.stats.reset();
    ctx.faults.reset();
    ctx.throttle.reset();
    ctx.identity = identityDefaults();
    ctx.graph = { ...graphDefaults };
  };
  const server: Server = await listen(ctx, tls, {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    reset,
    onOrigin: (origin) => {
      ctx.origin = origin;
      ctx.issuerV2 = `${origin}/${tenant.tenantId}/v2.0`;
      ctx.graphAudiences = [origin, `${origin}/`, '00000003-0000-0000-c000-000000000000', 'https://graph.microsoft.com'];
    },
  });
  return {
    origin: ctx.origin,
    graphEndpoint: ctx.origin,
    authorityHost: ctx.origin,
    brokerUrl: `${ctx.origin}/broker/obtain-token`,
    tenantId: tenant.tenantId,
    caCertPem: tls.caCertPem,
    caFile: tls.caFile,
    demoAppCertificatePath: demoCert.path,
    context: ctx,
    get tenant() {
      return ctx.tenant;
    },
    reset,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
