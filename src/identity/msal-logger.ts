import { LogLevel, type Configuration } from '@azure/msal-node';
import type { Logger } from '../logger.js';
import { scrubSecrets } from './token-errors.js';

/**
 * msal-common warns "No client info in response" for every token response without `client_info`
 * (ResponseHandler → generateHomeAccountId). Entra returns `client_info` (the signed-in user's
 * uid/utid, which msal keys accounts on) only for tokens of a user; an app-only token from the client
 * credentials grant belongs to no user and never has it, so for that flow the warning says nothing
 * and was printed at every start and token refresh. For the user flows (authorization code,
 * on-behalf-of) it can mean a real problem, so it is kept there.
 */
const NO_CLIENT_INFO = /(^|\s-\s)No client info in response$/;

/** msal's log lines into pino (PII logging off; lines scrubbed of token-shaped strings anyway). */
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
      const line = scrubSecrets(message, secrets);
      if (level === LogLevel.Error) child.error(line);
      else if (level === LogLevel.Warning) child.warn(line);
      else if (level === LogLevel.Info) child.debug(line);
      else child.trace(line);
    },
  };
}
