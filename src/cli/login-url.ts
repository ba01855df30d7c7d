import { pathToFileURL } from 'node:url';
import { loadConfigOrExit } from '../config.js';
import type { Config } from '../config-types.js';
import { buildLoginUrl } from '../identity/login-url.js';

/**
 * `npm run auth:login-url`: prints the authorize URL for the configured cloud (the original's
 * generate-login-url, with the national-cloud host and an encoded redirect URI).
 */
export function loginUrlReport(config: Config): string[] {
  const url = buildLoginUrl(config);
  return [
    'Open this URL in a browser, sign in as an administrator and consent:',
    '',
    `  ${url}`,
    '',
    `You are sent to ${config.selfDeployed!.redirectUri} with ?code=...&session_state=...`,
    'Copy only the value of code= (without &session_state=...) into AUTH_CODE and restart the gateway.',
    'The code is single-use and expires within minutes; the gateway keeps the refresh token it returns.',
    'Simpler and safer: start the gateway with GRAPH_AUTH_FLOW=authorization-code and open /auth/login,',
    'which does the same with PKCE and state checked server-side, no copying by hand.',
  ];
}

function main(): void {
  const config = loadConfigOrExit(process.env);
  try {
    process.stdout.write(`${loginUrlReport(config).join('\n')}\n`);
  } catch (error) {
    process.stderr.write(`auth:login-url: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
