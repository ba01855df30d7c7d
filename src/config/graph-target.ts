import type { AzureCloud, Config, DeploymentMode, GraphAuthFlow } from '../config-types.js';
import type { EnvReader } from './env-reader.js';
import type { CredentialsPresent } from './server.js';

/** Login and Graph hosts per national cloud (learn.microsoft.com/graph/deployments). */
export const CLOUDS: Record<AzureCloud, { authorityHost: string; graphEndpoint: string }> = {
  AzurePublic: { authorityHost: 'https://login.microsoftonline.com', graphEndpoint: 'https://graph.microsoft.com' },
  AzureUSGovernment: { authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://graph.microsoft.us' },
  AzureUSGovernmentDoD: { authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://dod-graph.microsoft.us' },
  AzureChina: { authorityHost: 'https://login.chinacloudapi.cn', graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn' },
};

export type GraphTarget = Pick<Config, 'deploymentMode' | 'cloud' | 'authorityHost' | 'graphEndpoint'> & { flow: GraphAuthFlow };

/** Which Graph the gateway talks to and how it gets tokens: mode, cloud, login and Graph hosts, flow. */
export function readGraphTarget(env: EnvReader, present: CredentialsPresent): GraphTarget {
  const deploymentMode = env.oneOf<DeploymentMode>(
    'DEPLOYMENT_MODE',
    ['self-deployed', 'hosted'],
    present.broker && !present.tenant ? 'hosted' : 'self-deployed',
    'how the gateway gets Graph tokens (your own Entra app, or the hosted OAuth broker)',
  );
  const cloud = env.oneOf<AzureCloud>(
    'AZURE_CLOUD',
    ['AzurePublic', 'AzureUSGovernment', 'AzureUSGovernmentDoD', 'AzureChina'],
    'AzurePublic',
    'the national cloud of your tenant',
  );
  const authorityHost =
    env.httpsUrl('AZURE_AUTHORITY_HOST', 'the Entra ID login host (overrides AZURE_CLOUD)', 'https://login.microsoftonline.com') ?? CLOUDS[cloud].authorityHost;
  const graphEndpointRaw = env.httpsUrl(
    'GRAPH_ENDPOINT',
    'the Microsoft Graph base URL, with or without /v1.0 (overrides AZURE_CLOUD)',
    'https://graph.microsoft.com',
  );
  // The gateway puts the API version in every path itself, so a copied `…/v1.0` (what Graph's
  // documentation and `npm run emulator` show) is normalised away rather than doubled; another
  // version would change the API under the gateway and is refused.
  if (graphEndpointRaw && /\/beta$/i.test(graphEndpointRaw))
    env.problem(
      `GRAPH_ENDPOINT=${JSON.stringify(graphEndpointRaw)} is not valid: the gateway calls Graph v1.0; give the base URL (e.g. GRAPH_ENDPOINT=https://graph.microsoft.com)`,
    );
  const graphEndpoint = graphEndpointRaw?.replace(/\/v1\.0$/i, '') ?? CLOUDS[cloud].graphEndpoint;
  const flow = env.oneOf<GraphAuthFlow>(
    'GRAPH_AUTH_FLOW',
    ['client-credentials', 'authorization-code', 'on-behalf-of'],
    env.get('AUTH_CODE') ? 'authorization-code' : 'client-credentials',
    'how a self-deployed app gets Graph tokens',
  );
  return { deploymentMode, cloud, authorityHost, graphEndpoint, flow };
}
