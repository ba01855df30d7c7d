import { randomUUID } from 'node:crypto';
import type { Config } from '../config-types.js';
import { createGraphClient } from '../graph/client.js';
import { createGraphWrites } from '../graph/writes.js';
import { graphFlowOf } from '../identity/index.js';
import { acquireGatewayToken, type DoctorIo } from './acquire-token.js';
import { administratorTargetCheck } from './admin-target-check.js';
import { featureAvailability, grantKindOf } from './enabled-features.js';
import { featurePermissionChecks } from './permission-checks.js';
import { readProbes, writeProbes } from './probes.js';
import { exitCodeOf, type Check, type DoctorReport } from './report.js';
import { readHeldRoles, roleChecks } from './role-checks.js';
import { sharedStateChecks } from './shared-state.js';

export interface DoctorOptions {
  /** Id or userPrincipalName of the one user the write probes may touch. */
  testUser?: string;
  /** The explicit confirmation that write probes may run on `testUser`. */
  allowWrites: boolean;
  /** A user's access token for the gateway's API, for on-behalf-of (never printed). */
  callerToken?: string;
}

function configurationCheck(config: Config): Check {
  const flow = graphFlowOf(config);
  const who =
    config.deploymentMode === 'hosted'
      ? `broker ${new URL(config.hosted!.brokerUrl).host}, registration ${config.hosted!.registrationId}`
      : `tenant ${config.selfDeployed!.tenantId}, app ${config.selfDeployed!.clientId}, ${config.selfDeployed!.credential.kind} credential`;
  return {
    id: 'configuration',
    status: 'ok',
    message: `configuration: ${config.deploymentMode} mode, ${flow}, ${who}; Graph ${config.graphEndpoint}, login ${config.authorityHost}; callers: ${config.callerAuth.mode}`,
  };
}

/**
 * Checks a real tenant the way the gateway will use it: token, permissions per enabled feature,
 * Entra roles, the basic reads, and (only when asked, on one named user) the containment writes.
 */
export async function runDoctor(config: Config, options: DoctorOptions, io: DoctorIo): Promise<DoctorReport> {
  // The shared Redis first: what it holds (spent sign-in links, failure counts) does not depend on the token.
  const checks: Check[] = [configurationCheck(config), ...(await sharedStateChecks(config))];
  const availability = featureAvailability(config);
  const kind = grantKindOf(config);
  const finish = (): DoctorReport => ({ checks, exitCode: exitCodeOf(checks) });

  const outcome = await acquireGatewayToken(config, io, options.callerToken);
  if (outcome.kind !== 'token') {
    checks.push(...outcome.checks);
    const why = outcome.kind === 'failed' ? 'no Graph token' : 'no caller token to act for';
    for (const entry of availability) {
      const id = `feature:${entry.feature.id}`;
      if (entry.state === 'not-available')
        checks.push({
          id,
          status: 'not-available',
          message: `${entry.feature.id} (${entry.feature.title}): not available in this configuration: ${entry.reason}`,
        });
      else checks.push({ id, status: 'unchecked', message: `${entry.feature.id} (${entry.feature.title}): not checked: ${why}` });
    }
    return finish();
  }

  try {
    checks.push(outcome.check);
    const { claims } = outcome;
    if (kind === 'application' && claims.kind !== 'app') {
      checks.push({ id: 'token-kind', status: 'failed', message: `token: expected an app-only token from ${graphFlowOf(config)}, got a delegated one` });
    }
    const granted = new Set(kind === 'application' ? claims.roles : claims.scopes);
    const listed = [...granted].sort();
    checks.push({
      id: 'granted',
      status: listed.length > 0 ? 'ok' : 'missing',
      message:
        listed.length > 0
          ? `granted: ${kind === 'application' ? 'application permissions (roles)' : 'delegated permissions (scp)'} ${listed.join(', ')}`
          : `granted: the token carries no ${kind === 'application' ? 'application permissions: add them under API permissions → Microsoft Graph → Application permissions and grant admin consent' : 'delegated permissions: add them under API permissions → Microsoft Graph → Delegated permissions and grant admin consent'}`,
    });
    checks.push(...featurePermissionChecks(availability, kind, granted));
    checks.push(...administratorTargetCheck(config, availability, kind, granted));

    const graph = createGraphClient({
      upstream: io.upstream,
      tokenSource: outcome.source,
      graphEndpoint: config.graphEndpoint,
      logger: io.logger,
      metrics: io.metrics,
      correlationId: randomUUID(),
      maxRetries: config.limits.maxRetries,
      requestTimeoutMs: config.limits.upstreamTimeoutMs,
    });
    if (availability.some((a) => a.state === 'enabled' && (a.feature.roles[kind].allTargets.length > 0 || a.feature.roles[kind].nonAdminTargets.length > 0))) {
      checks.push(...roleChecks(availability, kind, await readHeldRoles(graph, kind, claims, granted)));
    }

    const reads = availability.find((a) => a.feature.id === 'readUsers');
    if (reads?.state === 'enabled') checks.push(...(await readProbes(graph)));

    checks.push(...(await maybeWriteProbes(config, options, availability, graph, claims)));
    return finish();
  } finally {
    await outcome.close();
  }
}

async function maybeWriteProbes(
  config: Config,
  options: DoctorOptions,
  availability: ReturnType<typeof featureAvailability>,
  graph: ReturnType<typeof createGraphClient>,
  claims: Parameters<typeof writeProbes>[3],
): Promise<Check[]> {
  if (!options.testUser) {
    return [
      {
        id: 'write',
        status: 'skipped',
        message: 'write probes: skipped (run with --test-user <id|upn> --allow-writes to revoke, disable and re-enable one test user)',
      },
    ];
  }
  if (!options.allowWrites) {
    return [
      {
        id: 'write',
        status: 'skipped',
        message: `write probes: skipped, --test-user ${options.testUser} needs --allow-writes to confirm that this user may be disabled and re-enabled`,
      },
    ];
  }
  const terminate = availability.find((a) => a.feature.id === 'terminateSession')!;
  if (terminate.state !== 'enabled') {
    return [{ id: 'write', status: terminate.state === 'not-available' ? 'not-available' : 'skipped', message: `write probes: ${terminate.reason}` }];
  }
  const writes = createGraphWrites({ graph, graphEndpoint: config.graphEndpoint });
  return writeProbes(graph, writes, options.testUser, claims);
}
