import { removeKnownSecrets, scrubSecrets } from './http/upstream-text.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';

/**
 * What the process does with a fault no code caught (docs/operations.md#process-faults).
 *
 * Node's defaults are wrong for this gateway twice over: an unhandled promise rejection ends the
 * process (every caller's in-flight operation with it, mutations whose outcome is then unknown),
 * and either fault is printed to stderr with `util.inspect`, every own property included. An error
 * thrown by an HTTP client or an identity library can carry the request's headers (an
 * `Authorization` bearer token) or a token response; pino's redaction never sees that text.
 *
 * - An unhandled rejection is a promise nobody awaited: the operation that made it has already
 *   answered or failed on its own path, and nothing shared is left half-changed. The gateway logs it
 *   and keeps serving.
 * - An uncaught exception left a function half-run at an unknown point: state may be inconsistent
 *   (Node's documentation says the same of resuming). The gateway logs it and exits 1, so the
 *   orchestrator restarts it.
 *
 * Both are logged through the redacting logger as a summary (name, code, message and stack, each
 * scrubbed of token-shaped text and the configured secrets), never the error object itself.
 */
export interface ProcessFaultDeps {
  logger: Logger;
  metrics: GatewayMetrics;
  /** Configured secret values (`configSecrets`), removed from any text that is logged. */
  secrets: readonly string[];
  /** `process.exit`; injected so a test can watch it. */
  exit: (code: number) => void;
}

/** Installs the handlers on `target` (the process); returns a function that removes them. */
export function installProcessFaultHandlers(target: NodeJS.EventEmitter, deps: ProcessFaultDeps): () => void {
  const onRejection = (reason: unknown) => {
    deps.metrics.processFaults.inc({ kind: 'unhandled_rejection' });
    deps.logger.error(
      { err: faultSummary(reason, deps.secrets) },
      'a promise was rejected and nothing handled it (a defect in the gateway, please report it): the gateway keeps serving',
    );
  };
  const onException = (error: unknown) => {
    deps.metrics.processFaults.inc({ kind: 'uncaught_exception' });
    deps.logger.fatal(
      { err: faultSummary(error, deps.secrets) },
      'an exception escaped every handler (a defect in the gateway, please report it): exiting, the process state is unknown',
    );
    // process.exit flushes pino's asynchronous destination synchronously (its exit hook).
    deps.exit(1);
  };
  target.on('unhandledRejection', onRejection);
  target.on('uncaughtException', onException);
  return () => {
    target.off('unhandledRejection', onRejection);
    target.off('uncaughtException', onException);
  };
}

const MESSAGE_LIMIT = 300;
const STACK_FRAMES = 12;

export interface FaultSummary {
  name?: string;
  errorCode?: string;
  message?: string;
  stack?: string;
}

/** Only these four texts of a fault are logged: its other properties may hold headers, bodies or tokens. */
export function faultSummary(fault: unknown, secrets: readonly string[]): FaultSummary {
  if (!(fault instanceof Error)) return { message: `a ${fault === null ? 'null' : typeof fault} was thrown, not an Error` };
  const code = (fault as { code?: unknown }).code;
  const summary: FaultSummary = { name: fault.name, message: scrubSecrets(fault.message, secrets).slice(0, MESSAGE_LIMIT) };
  if (typeof code === 'string') summary.errorCode = code.slice(0, 64);
  if (typeof fault.stack === 'string') {
    // The stack's first line repeats the message; it is replaced by the scrubbed one. The frames
    // are code locations (long file paths the token-shape scrubber would take for tokens): only
    // the known secrets are removed from them.
    const frames = fault.stack
      .split('\n')
      .filter((line) => line.trimStart().startsWith('at '))
      .slice(0, STACK_FRAMES)
      .map((line) => removeKnownSecrets(line, secrets));
    summary.stack = [`${fault.name}: ${summary.message}`, ...frames].join('\n');
  }
  return summary;
}
