import { hostname, userInfo } from 'node:os';
import { pathToFileURL } from 'node:url';
import { loadConfigOrExit } from '../config.js';
import type { Config } from '../config-types.js';
import { graphIdentityId } from '../identity/identity-id.js';
import { buildLoginUrl } from '../identity/login-url.js';
import { deriveSignInLinkKey, mintSignInLink } from '../identity/sign-in-link.js';

/**
 * `npm run auth:login-url`: the ways an operator signs the gateway in to Graph.
 * First choice: a one-time, 5-minute sign-in link to the running gateway's /auth/login (signed with
 * a key derived from TOKEN_CACHE_KEY, so only someone holding the gateway's configuration can
 * print one). Second: the authorize URL for the configured cloud (the original's
 * generate-login-url, with the national-cloud host and an encoded redirect URI), whose code goes
 * into AUTH_CODE by hand.
 */
export function loginUrlReport(config: Config, options: { issuedBy?: string; now?: number } = {}): string[] {
  const url = buildLoginUrl(config);
  const redirectUri = config.selfDeployed!.redirectUri!;
  const lines: string[] = [];
  const callback = new URL(redirectUri);
  if (config.selfDeployed!.flow === 'authorization-code' && callback.pathname.endsWith('/auth/callback')) {
    if (config.tokenCacheKey) {
      const link = mintSignInLink({
        key: deriveSignInLinkKey(config.tokenCacheKey.reveal(), graphIdentityId(config)),
        loginUrl: new URL(callback.pathname.replace(/callback$/, 'login'), callback.origin).toString(),
        issuedBy: options.issuedBy ?? operatorName(),
        ...(options.now !== undefined ? { now: options.now } : {}),
      });
      lines.push(
        'Open this one-time sign-in link in a browser and sign in as the account the gateway should act as:',
        '',
        `  ${link.url}`,
        '',
        `It works once, until ${link.expiresAt.toISOString()}, and only in the browser that opens it (PKCE and state are checked server-side).`,
        'The sign-in replaces the account every caller is served as; the audit log names this link and the account.',
        '',
        'Alternatively, by hand:',
      );
    } else {
      lines.push(
        'A one-time sign-in link for /auth/login needs TOKEN_CACHE_KEY (the link is signed with a key derived from it);',
        'an operator holding the Gateway.Admin permission can also open /auth/login with its credential. Or, by hand:',
      );
    }
  }
  lines.push(
    'Open this URL in a browser, sign in as an administrator and consent:',
    '',
    `  ${url}`,
    '',
    `You are sent to ${redirectUri} with ?code=...&session_state=...`,
    'Copy only the value of code= (without &session_state=...) into AUTH_CODE and restart the gateway.',
    'The code is single-use and expires within minutes; the gateway keeps the refresh token it returns.',
  );
  return lines;
}

function operatorName(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}

function main(): void {
  const config = loadConfigOrExit(process.env, { purpose: 'tool' });
  try {
    process.stdout.write(`${loginUrlReport(config).join('\n')}\n`);
  } catch (error) {
    process.stderr.write(`auth:login-url: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
