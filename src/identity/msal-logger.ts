import { LogLevel, type Configuration } from '@azure/msal-node';
import type { Logger } from '../logger.js';
import { scrubSecrets } from './token-errors.js';

/** msal's log lines into pino (PII logging off; lines scrubbed of token-shaped strings anyway). */
export function createMsalLoggerOptions(logger: Logger, secrets: readonly string[]): NonNullable<NonNullable<Configuration['system']>['loggerOptions']> {
  const child = logger.child({ component: 'msal' });
  return {
    piiLoggingEnabled: false,
    logLevel: LogLevel.Verbose,
    loggerCallback(level, message, containsPii) {
      if (containsPii) return;
      const line = scrubSecrets(message, secrets);
      if (level === LogLevel.Error) child.error(line);
      else if (level === LogLevel.Warning) child.warn(line);
      else if (level === LogLevel.Info) child.debug(line);
      else child.trace(line);
    },
  };
}
