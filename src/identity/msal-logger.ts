import { LogLevel, type Configuration } from '@azure/msal-node';
import type { Logger } from '../logger.js';
import { scrubbedUpstreamText } from '../http/upstream-text.js';

/**
 * msal-common warns "No client info in response" for every token response without `client_info`
 * (ResponseHandler → generateHomeAccountId). Entra returns `client_info` (the signed-in user's
 * uid/utid, which msal keys accounts on) only for tokens of a user; an app-only token from the client
 * credentials grant belongs to no user and never has it, so for that flow the warning says nothing
 * and was printed at every start and token refresh. For the user flows (authorization code,
 * on-behalf-of) it can mean a real problem, so it is kept there.
 */
const NO_CLIENT_INFO = /(^|\s-\s)No client info in response$/;

/** The longest msal line logged, in characters: its verbose lines are short; an error quoting a server answer is cut. */
const MAX_MSAL_LINE = 2_000;

/**
 * msal's log lines into pino (PII logging off; lines scrubbed of token-shaped strings anyway). A line
 * can quote Entra's answer (error descriptions, server text), so it is treated as upstream text:
 * one printable line without bidi or control characters, scrubbed, bounded (src/http/upstream-text.ts).
 */
export function createMsalLoggerOptions(
  logger: Logger,
  secrets: readonly string[],
  options: { clientCredentialsOnly?: boolean } = {},
): NonNullable<NonNullable<Configuration['system']>['loggerOptions']> {
  const child = logger.child({ component: 'msal' });
  return {
    piiLoggingEnabled: false,
    logLevel: LogLevel.Verbose,
    loggerCallback(level, message, containsPii) {
      if (containsPii) return;
      if (options.clientCredentialsOnly && level === LogLevel.Warning && NO_CLIENT_INFO.test(message)) return;
      const line = scrubbedUpstreamText(message, secrets, MAX_MSAL_LINE);
      if (level === LogLevel.Error) child.error(line);
      else if (level === LogLevel.Warning) child.warn(line);
      else if (level === LogLevel.Info) child.debug(line);
      else child.trace(line);
    },
  };
}
