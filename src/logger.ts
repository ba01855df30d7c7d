import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino censors in every log line, whatever the caller logs. Defence in depth: code never
 * logs secrets on purpose, and these catch the accidents (a request's headers, a token response).
 */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers["x-api-key"]',
  'password',
  '*.password',
  'newPassword',
  '*.newPassword',
  'variables.password',
  'variables.input.password',
  'variables.*.password',
  'input.password',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'refreshToken',
  '*.refreshToken',
  'refresh_token',
  '*.refresh_token',
  'id_token',
  'client_secret',
  '*.client_secret',
  'clientSecret',
  '*.clientSecret',
  'code',
  'authCode',
  'temporaryAccessPass',
  '*.temporaryAccessPass',
  'brokerKey',
  'brokerToken',
  'assertion',
  'client_assertion',
];

export function createLogger(options: { level: string; destination?: DestinationStream; name?: string }): Logger {
  return pino(
    {
      name: options.name ?? 'msgraph-user-gateway',
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
