import { createHash } from 'node:crypto';
import type { Config } from '../config-types.js';

/**
 * The token-store partition of the configured Graph identity: one app registration + tenant +
 * flow (or one broker registration). Changing any of them starts from an empty cache instead of
 * reusing another identity's tokens; `auth:reset` clears exactly this partition.
 */
export function graphIdentityId(config: Config): string {
  const hash = (parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 24);
  if (config.deploymentMode === 'hosted') {
    if (!config.hosted) throw new Error('hosted mode needs BROKER_URL, BROKER_ID, BROKER_TOKEN and BROKER_KEY');
    return `hosted-${hash([config.hosted.brokerUrl, config.hosted.registrationId])}`;
  }
  const sd = config.selfDeployed;
  if (!sd) throw new Error('self-deployed mode needs AZURE_TENANT_ID, AZURE_CLIENT_ID and a credential');
  return `${sd.flow}-${hash([config.authorityHost, sd.tenantId, sd.clientId, sd.flow])}`;
}

/** Flows that keep a refresh token, so the default cache must survive restarts. */
export function keepsRefreshToken(config: Config): boolean {
  return config.deploymentMode === 'hosted' || config.selfDeployed?.flow === 'authorization-code';
}

/** The flow name used in metrics and messages. */
export function graphFlowOf(config: Config): 'client-credentials' | 'authorization-code' | 'on-behalf-of' | 'hosted-broker' {
  return config.deploymentMode === 'hosted' ? 'hosted-broker' : (config.selfDeployed?.flow ?? 'client-credentials');
}
