import path from 'node:path';
import type { Config } from './config-types.js';
import { Secret } from './config-types.js';
import type { RunningEmulator } from './emulator/index.js';

/**
 * Points a sandbox Config at a running emulator tenant: its login and Graph hosts, its CA, and the
 * seeded demo app (self-deployed) or broker registration (hosted). The result is an ordinary
 * Config, so nothing downstream knows it is talking to an emulator.
 */
export function applySandbox(config: Config, emulator: RunningEmulator): Config {
  const known = emulator.tenant.wellKnown;
  const registration = emulator.tenant.brokerRegistrations.get(known.brokerRegistrationId);
  const base = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const redirectUri = `http://${base === '0.0.0.0' ? '127.0.0.1' : base}:${config.listen.port}/auth/callback`;
  return {
    ...config,
    authorityHost: emulator.authorityHost,
    graphEndpoint: emulator.graphEndpoint,
    extraCaPem: [...config.extraCaPem, emulator.caCertPem],
    selfDeployed:
      config.deploymentMode === 'self-deployed'
        ? {
            tenantId: emulator.tenantId,
            clientId: known.demoAppId,
            credential: { kind: 'secret', secret: new Secret(known.demoAppSecret) },
            flow: config.sandbox.flow,
            // With PORT=0 the port is known only once listening: /auth/login then derives the
            // redirect URI from the address the browser used.
            ...(config.listen.port !== 0 ? { redirectUri } : {}),
          }
        : undefined,
    hosted:
      config.deploymentMode === 'hosted' && registration
        ? { brokerUrl: emulator.brokerUrl, registrationId: registration.id, token: new Secret(registration.token), key: new Secret(registration.key) }
        : undefined,
    // The demo app exposes the gateway's API: v1.0 tokens carry its App ID URI, v2.0 tokens its client id.
    callerAuth:
      config.callerAuth.mode === 'entra' && config.callerAuth.audiences.length === 0
        ? { ...config.callerAuth, audiences: [known.gatewayApiAudience, known.demoAppId] }
        : config.callerAuth,
    dataDir: config.dataDir,
  };
}

export function emulatorDataDir(config: Config): string {
  return path.join(config.dataDir, 'emulator');
}
