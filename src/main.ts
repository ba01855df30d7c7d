import { startApp } from './app.js';
import { loadConfigOrExit } from './config.js';

/** `npm start`: config → (sandbox) emulator → gateway, and a clean shutdown on Ctrl-C / SIGTERM. */
async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  const app = await startApp(config);
  const c = app.config;
  const lines = [
    `msgraph-user-gateway listening on ${app.url}`,
    `  GraphQL + playground  ${app.url}/graphql`,
    `  Health / readiness    ${app.url}/healthz  ${app.url}/readyz`,
    `  Metrics               ${app.url}/metrics`,
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

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down: draining in-flight operations');
    const forced = setTimeout(() => process.exit(1), 15_000);
    forced.unref();
    void app.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`msgraph-user-gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
