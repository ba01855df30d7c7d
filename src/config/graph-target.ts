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

/**
 * Which sign-in cloud a well-known Microsoft host belongs to. Tokens of one national cloud are not
 * accepted by another ("Access tokens acquired for a national cloud deployment are not
 * interchangeable", learn.microsoft.com/graph/deployments; docs/graph-facts.md#national-clouds), so a
 * login host and a Graph host of different clouds can never work together. GCC High (L4) and DoD
 * (L5) share `login.microsoftonline.us`. The login aliases are msal-common's instance-discovery
 * aliases (`src/authority/AuthorityMetadata.ts`). Any other host (a loopback emulator, a proxy) is
 * not classified and never refused.
 */
type SignInCloud = 'worldwide' | 'US Government' | 'China (21Vianet)';

const LOGIN_HOST_CLOUD: Readonly<Record<string, SignInCloud>> = {
  'login.microsoftonline.com': 'worldwide',
  'login.windows.net': 'worldwide',
  'login.microsoft.com': 'worldwide',
  'login.microsoftonline.us': 'US Government',
  'login.usgovcloudapi.net': 'US Government',
  'login.chinacloudapi.cn': 'China (21Vianet)',
  'login.partner.microsoftonline.cn': 'China (21Vianet)',
};

const GRAPH_HOST_CLOUD: Readonly<Record<string, SignInCloud>> = {
  'graph.microsoft.com': 'worldwide',
  'graph.microsoft.us': 'US Government',
  'dod-graph.microsoft.us': 'US Government',
  'microsoftgraph.chinacloudapi.cn': 'China (21Vianet)',
};

const CLOUD_SIGN_IN: Record<AzureCloud, SignInCloud> = {
  AzurePublic: 'worldwide',
  AzureUSGovernment: 'US Government',
  AzureUSGovernmentDoD: 'US Government',
  AzureChina: 'China (21Vianet)',
};

function hostOf(url: string): string {
  return new URL(url).hostname.toLowerCase();
}

/**
 * Refuses a login host and a Graph host of two different clouds (only hosts Microsoft publishes are
 * compared), and an explicit AZURE_CLOUD that an explicit host contradicts. Such a gateway used to
 * start and then fail every Graph call with a token Graph cannot accept.
 */
function checkCloudPair(
  env: EnvReader,
  target: { cloud: AzureCloud; cloudExplicit: boolean; authorityHost: string; graphEndpoint: string; authorityExplicit: boolean; graphExplicit: boolean },
  comparePair: boolean,
): void {
  const loginCloud = LOGIN_HOST_CLOUD[hostOf(target.authorityHost)];
  const graphHost = hostOf(target.graphEndpoint);
  const graphCloud = GRAPH_HOST_CLOUD[graphHost];
  const source = (explicit: boolean, name: string) => (explicit ? name : `AZURE_CLOUD=${target.cloud}`);
  if (target.cloudExplicit && target.authorityExplicit && loginCloud !== undefined && loginCloud !== CLOUD_SIGN_IN[target.cloud]) {
    env.problem(
      `AZURE_AUTHORITY_HOST=${JSON.stringify(target.authorityHost)} is not valid with AZURE_CLOUD=${target.cloud}: it is the ${loginCloud} sign-in host, and tokens of one national cloud do not work in another; set the host of your tenant's cloud (e.g. AZURE_AUTHORITY_HOST=${CLOUDS[target.cloud].authorityHost}) or leave it unset`,
    );
    return;
  }
  if (target.cloudExplicit && target.graphExplicit && graphCloud !== undefined && graphHost !== hostOf(CLOUDS[target.cloud].graphEndpoint)) {
    env.problem(
      `GRAPH_ENDPOINT=${JSON.stringify(target.graphEndpoint)} is not valid with AZURE_CLOUD=${target.cloud}: it is Microsoft Graph of another cloud; set the Graph of your tenant's cloud (e.g. GRAPH_ENDPOINT=${CLOUDS[target.cloud].graphEndpoint}) or leave it unset`,
    );
    return;
  }
  if (comparePair && loginCloud !== undefined && graphCloud !== undefined && loginCloud !== graphCloud) {
    env.problem(
      `${source(target.graphExplicit, 'GRAPH_ENDPOINT')} (Microsoft Graph ${JSON.stringify(target.graphEndpoint)}, ${graphCloud}) does not match ${source(target.authorityExplicit, 'AZURE_AUTHORITY_HOST')} (sign-in ${JSON.stringify(target.authorityHost)}, ${loginCloud}): tokens of one national cloud do not work in another; set AZURE_CLOUD to your tenant's cloud (e.g. AZURE_CLOUD=AzureUSGovernment) and leave both hosts unset, or set both to the same cloud`,
    );
  }
}

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
  const authorityHostRaw = env.httpsUrl('AZURE_AUTHORITY_HOST', 'the Entra ID login host (overrides AZURE_CLOUD)', 'https://login.microsoftonline.com');
  const authorityHost = authorityHostRaw ?? CLOUDS[cloud].authorityHost;
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
  // The pair matters where the gateway itself gets Graph tokens from that login host (self-deployed);
  // in hosted mode the broker does, and the login host only verifies callers.
  checkCloudPair(
    env,
    {
      cloud,
      cloudExplicit: env.get('AZURE_CLOUD') !== undefined,
      authorityHost,
      graphEndpoint,
      authorityExplicit: authorityHostRaw !== undefined,
      graphExplicit: graphEndpointRaw !== undefined,
    },
    deploymentMode === 'self-deployed',
  );
  return { deploymentMode, cloud, authorityHost, graphEndpoint, flow };
}
