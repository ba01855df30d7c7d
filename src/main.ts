import { startApp, type App } from './app.js';
import { loadConfigOrExit } from './config.js';
import { configSecrets } from './config-secrets.js';
import type { Config } from './config-types.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, SHUTDOWN_CLOSE_MARGIN_MS } from './gateway.js';
import { createLogger, endLog, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { installProcessFaultHandlers } from './process-faults.js';

/** Signals that stop the gateway gracefully: SIGTERM from orchestrators (`docker stop`, Kubernetes), SIGINT from Ctrl-C. */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** How long the last log lines get to reach stdout before the process exits anyway. */
const LOG_END_TIMEOUT_MS = 2_000;

/**
 * `npm start` / `node dist/src/main.js`: config → (sandbox) emulator → gateway, and a graceful
 * shutdown (docs/operations.md#shutdown): on SIGTERM or SIGINT stop accepting, drain in-flight
 * operations within DRAIN_TIMEOUT_MS, write their audit events, flush the log, exit 0.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  // Set once start-up is done; the signal handler below needs it before then.
  const running: { app?: App } = {};
  let signalled: NodeJS.Signals | undefined;

  // Handlers before anything else: as PID 1 in a container the kernel drops a signal that has no
  // handler, so a SIGTERM during start-up would otherwise be lost until the engine's SIGKILL.
  const onSignal = (signal: NodeJS.Signals) => {
    // `npm start` in a terminal: Ctrl-C reaches node from the terminal and again from npm, which
    // forwards it. One shutdown; the hard deadline below bounds it.
    if (signalled) return;
    signalled = signal;
    armHardDeadline(config, () => running.app?.logger);
    if (running.app) void stop(running.app, signal);
    // Otherwise start-up is still running; main() stops the app as soon as it is up.
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

  // From start-up on, a fault no code caught goes through the redacting logger, never Node's
  // default print of the whole error object (docs/operations.md#process-faults).
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  installProcessFaultHandlers(process, { logger, metrics, secrets: configSecrets(config), exit: (code) => process.exit(code) });

  const app = await startApp(config, { logger, metrics });
  running.app = app;
  if (signalled) return stop(app, signalled);
  printBanner(app);
}

async function stop(app: App, signal: NodeJS.Signals): Promise<void> {
  const drainTimeoutMs = app.config.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  app.logger.info({ signal, drainTimeoutMs }, 'shutting down: no new connections, draining in-flight operations');
  await app.close();
  app.logger.info({ signal }, 'stopped');
  // Every line out, in order (the audit events of the drained operations among them), before exiting.
  await endLog(app.logger, LOG_END_TIMEOUT_MS);
  process.exit(0);
}

/** Exit 1 if the graceful path hangs (a store that never closes, a stuck socket). */
function armHardDeadline(config: Config, logger: () => Logger | undefined): void {
  const limitMs = (config.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS) + SHUTDOWN_CLOSE_MARGIN_MS;
  setTimeout(() => {
    logger()?.error({ limitMs }, 'shutdown did not complete in time: exiting');
    // process.exit flushes pino's asynchronous destination synchronously (its exit hook).
    process.exit(1);
  }, limitMs).unref();
}

function printBanner(app: App): void {
  const c = app.config;
  const lines = [
    `msgraph-user-gateway listening on ${app.url}`,
    `  GraphQL${c.playground === false ? '              ' : ' + playground'}  ${app.url}/graphql`,
    `  Health / readiness    ${app.url}/healthz  ${app.url}/readyz`,
    `  Metrics               ${app.gateway.metricsUrl() ?? app.url}/metrics`,
    `  Deployment mode       ${c.deploymentMode}${c.selfDeployed ? ` (${c.selfDeployed.flow})` : ''}`,
    `  Caller authentication ${c.callerAuth.mode}`,
  ];
  if (app.emulator) {
    lines.push(
      `  Sandbox tenant        ${app.emulator.tenantId} (${app.emulator.tenant.domain}, ${app.emulator.tenant.users.size} users), emulator at ${app.emulator.origin}`,
      '  This is the embedded emulator tenant. To use your own tenant, set AZURE_TENANT_ID, AZURE_CLIENT_ID and',
      '  AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH); see README "Point it at a real tenant".',
    );
  } else {
    lines.push(`  Microsoft Graph       ${c.graphEndpoint}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`msgraph-user-gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
