import { startEmulator } from './index.js';
import { faultSettingsFromEnv } from './faults.js';
import { graphSettingsFromEnv } from './graph-settings.js';
import { tapPolicyFromEnv } from './tap-policy.js';
import { throttlingSettingsFromEnv } from './throttling.js';

/**
 * `npm run emulator`: the emulator tenant on its own, for pointing any Graph client at it.
 * Reads its own small set of variables (EMULATOR_*), since it is a separate tool from the gateway.
 */
async function main(): Promise<void> {
  const env = process.env;
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`${name}=${JSON.stringify(raw)} is not valid: a whole number from ${min} to ${max} (e.g. ${name}=${fallback})`);
    }
    return n;
  };
  const bool = (name: string): boolean | undefined => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === '') return undefined;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new Error(`${name}=${JSON.stringify(env[name])} is not valid: true or false (e.g. ${name}=true)`);
  };
  const apiTokenVersion = int('EMULATOR_API_TOKEN_VERSION', 1, 1, 2) as 1 | 2;
  const singleUseRefreshTokens = bool('EMULATOR_SINGLE_USE_REFRESH_TOKENS');
  const tokenRequestsPerMinute = env['EMULATOR_TOKEN_REQUESTS_PER_MINUTE']?.trim() ? int('EMULATOR_TOKEN_REQUESTS_PER_MINUTE', 1, 1, 1_000_000) : undefined;
  const stsHost = env['EMULATOR_STS_HOST'];
  const emulator = await startEmulator({
    host: env['EMULATOR_HOST'] ?? '127.0.0.1',
    port: int('EMULATOR_PORT', 8443, 0, 65535),
    seed: int('EMULATOR_SEED', 42, 0, 2 ** 31 - 1),
    userCount: int('EMULATOR_USERS', 1000, 10, 100_000),
    dataDir: env['EMULATOR_DATA_DIR'] ?? '.data/emulator',
    faults: faultSettingsFromEnv(env),
    throttling: throttlingSettingsFromEnv(env),
    ...(apiTokenVersion === 2 ? { apiAccessTokenVersion: 2 as const } : {}),
    ...(singleUseRefreshTokens !== undefined ? { singleUseRefreshTokens } : {}),
    ...(tokenRequestsPerMinute !== undefined ? { tokenRequestsPerMinute } : {}),
    ...(stsHost ? { stsHost } : {}),
    graph: graphSettingsFromEnv(env),
    temporaryAccessPassPolicy: tapPolicyFromEnv(env),
  });
  const known = emulator.tenant.wellKnown;
  const tap = emulator.tenant.temporaryAccessPassPolicy;
  const lines = [
    'Microsoft Graph + Entra ID emulator tenant is running',
    `  Graph endpoint     ${emulator.graphEndpoint}   (API base: ${emulator.graphEndpoint}/v1.0)`,
    `  Authority          ${emulator.authorityHost}/${emulator.tenantId}`,
    `  Token endpoint     ${emulator.authorityHost}/${emulator.tenantId}/oauth2/v2.0/token`,
    `  Broker token URL   ${emulator.brokerUrl}`,
    `  Tenant id          ${emulator.tenantId} (${emulator.tenant.domain}, ${emulator.tenant.users.size} users)`,
    `  Demo client id     ${known.demoAppId}`,
    `  Demo client secret ${known.demoAppSecret}   (sandbox only: a local, throwaway secret)`,
    `  Demo certificate   ${emulator.demoAppCertificatePath}`,
    `  Gateway API        ${known.gatewayApiAudience} (v${apiTokenVersion}.0 access tokens; API_AUDIENCE=${known.gatewayApiAudience},${known.demoAppId})`,
    `  CA file            ${emulator.caFile}   (trust it: NODE_EXTRA_CA_CERTS=${emulator.caFile})`,
    `  Stats / faults     ${emulator.origin}/_emulator/stats, POST ${emulator.origin}/_emulator/faults (all requests), POST ${emulator.origin}/_emulator/faults/rules (targeted)`,
    `  Graph switches     ${emulator.origin}/_emulator/graph (expandPageCap: ${String(emulator.context.graph.expandPageCap)}, expandNestedSelect: ${String(emulator.context.graph.expandNestedSelect)}, revokeSignInSessionsStatus: ${String(emulator.context.graph.revokeSignInSessionsStatus)}, forceChangeWithoutPassword: ${emulator.context.graph.forceChangeWithoutPassword})`,
    `  TAP policy         ${emulator.origin}/_emulator/tap-policy (${tap.state}; lifetime ${tap.minimumLifetimeInMinutes}..${tap.maximumLifetimeInMinutes} min, default ${tap.defaultLifetimeInMinutes}; one-time only: ${String(tap.isUsableOnce)})`,
    `  Directory limits   ${emulator.origin}/_emulator/throttling (RU per 10 s: ${String(emulator.context.throttle.settings.resourceUnitsPer10s ?? 'off')}, writes per 150 s: ${String(emulator.context.throttle.settings.writesPer150s ?? 'off')})`,
    '',
    'Point the gateway at it (a second terminal, from the repository root):',
    `  SANDBOX=false CALLER_AUTH=none GRAPH_ENDPOINT=${emulator.graphEndpoint} AZURE_AUTHORITY_HOST=${emulator.authorityHost} \\`,
    `  AZURE_TENANT_ID=${emulator.tenantId} AZURE_CLIENT_ID=${known.demoAppId} AZURE_CLIENT_SECRET=<demo client secret> \\`,
    `  NODE_EXTRA_CA_CERTS=${emulator.caFile} CACHE_URL=memory npm start`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = () => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`emulator failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
