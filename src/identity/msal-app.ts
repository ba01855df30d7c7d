import { ConfidentialClientApplication, type Configuration, type ICachePlugin } from '@azure/msal-node';
import type { Config } from '../config-types.js';
import { loadAuthorityOptions } from './authority.js';
import { loadCertificateCredential } from './certificate-credential.js';
import type { GraphIdentityDeps } from './deps.js';
import { createMsalLoggerOptions } from './msal-logger.js';
import { createMsalNetworkModule } from './msal-network.js';

type SelfDeployed = NonNullable<Config['selfDeployed']>;

/**
 * Builds msal ConfidentialClientApplications for one self-deployed app registration: authority
 * metadata fetched once, our network module, our logger, the configured credential. Several
 * applications can be built (one per on-behalf-of caller) without more discovery requests.
 */
export interface MsalAppFactory {
  create(cachePlugin?: ICachePlugin): ConfidentialClientApplication;
  /** Values that must never appear in logs or messages. */
  readonly secrets: readonly string[];
  readonly authority: string;
}

export async function createMsalAppFactory(config: Config, selfDeployed: SelfDeployed, deps: GraphIdentityDeps): Promise<MsalAppFactory> {
  const authOptions = await loadAuthorityOptions(deps.upstream, config.authorityHost, selfDeployed.tenantId, deps.logger);
  const secrets: string[] = [];
  let credential: Pick<Configuration['auth'], 'clientSecret' | 'clientCertificate'>;
  if (selfDeployed.credential.kind === 'secret') {
    const secret = selfDeployed.credential.secret.reveal();
    secrets.push(secret);
    credential = { clientSecret: secret };
  } else {
    const cert = loadCertificateCredential(selfDeployed.credential.path);
    credential = { clientCertificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKey, x5c: cert.x5c } };
  }
  if (selfDeployed.authCode) secrets.push(selfDeployed.authCode.reveal());
  const networkClient = createMsalNetworkModule(deps.upstream, config.limits.upstreamTimeoutMs);
  const loggerOptions = createMsalLoggerOptions(deps.logger, secrets, { clientCredentialsOnly: selfDeployed.flow === 'client-credentials' });
  return {
    secrets,
    authority: authOptions.authority ?? '',
    create(cachePlugin) {
      return new ConfidentialClientApplication({
        auth: { clientId: selfDeployed.clientId, ...authOptions, ...credential },
        cache: cachePlugin ? { cachePlugin } : {},
        system: { networkClient, loggerOptions },
      });
    },
  };
}
