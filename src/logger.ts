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

/**
 * Ends the log's destination and resolves once every line written so far is out (at most
 * `timeoutMs` later). The graceful stop calls it last, then exits.
 *
 * Why not `logger.flush(cb)`: pino's asynchronous destination (sonic-boom, minLength 0) calls
 * that back at once, even while a write is still queued in libuv's thread pool; `process.exit`
 * then makes pino write the newer lines synchronously ahead of that write, which is lost or lands
 * last. CI saw it: the audit line of the mutation answered during the drain came out after
 * "stopped". `end()` writes the queued lines in order and closes (never fd 1 or 2 itself).
 */
export function endLog(logger: Logger, timeoutMs: number): Promise<void> {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as EndableStream | undefined;
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    if (!stream || typeof stream.end !== 'function' || typeof stream.once !== 'function' || stream.destroyed === true) {
      // A destination of another kind (tests pass in-memory streams): flush is all there is.
      logger.flush(() => done());
      return;
    }
    stream.once('close', done);
    stream.end();
  });
}

interface EndableStream {
  end?: () => void;
  once?: (event: 'close', listener: () => void) => void;
  destroyed?: boolean;
}
