import type { GovernorHealth } from '../graph/governor.js';
import type { GraphIdentity } from '../identity/types.js';
import type { Logger } from '../logger.js';

/**
 * `/readyz` without an upstream call per request: anyone who can reach the route may poll it, so
 * the answer comes from a short cache (`ttlMs`), and however many requests arrive while it is
 * stale only one probe is in flight; they all wait for that one. The body says which check failed
 * and why, in words that hold no secret (no token, no upstream body, no credential).
 */
export type ReadinessCheckName = 'graph-token' | 'graph-reachable' | 'rate-governor';

export interface ReadinessCheck {
  name: ReadinessCheckName;
  ok: boolean;
  /** Passing, but on a fallback: the gateway serves, with less than it should have. */
  degraded?: boolean;
  /** Why it failed (or is degraded), and what to do about it. */
  reason?: string;
}

export interface ReadinessReport {
  /** `degraded`: ready (HTTP 200), but a check passes on a fallback (its reason says which and why). */
  status: 'ready' | 'degraded' | 'not ready';
  graphIdentity: GraphIdentity['kind'];
  /** When the checks ran (ISO 8601): answers are cached for a few seconds. */
  checkedAt: string;
  checks: ReadinessCheck[];
}

export interface ReadinessDeps {
  identity: Pick<GraphIdentity, 'kind' | 'probe'>;
  graphReachable?: (signal: AbortSignal) => Promise<boolean>;
  graphEndpoint: string;
  logger: Logger;
  /** How long an answer is reused (default 5 s). */
  ttlMs?: number;
  /** Upper bound of one probe round (default 5 s). */
  timeoutMs?: number;
  now?: () => number;
}

export const READINESS_TTL_MS = 5_000;
/** Upper bound of one readiness probe round: the kubelet's readinessProbe timeout must exceed it (deploy/deployment.yaml). */
export const READINESS_PROBE_TIMEOUT_MS = 5_000;

/** What to do when no token could be obtained, per Graph identity (the gateway log has the Entra or broker error). */
const TOKEN_HINTS: Record<GraphIdentity['kind'], string> = {
  'client-credentials':
    'no Microsoft Graph token could be obtained with the app credential: check AZURE_TENANT_ID, AZURE_CLIENT_ID and the secret or certificate (the gateway log has the AADSTS code)',
  'authorization-code':
    'no Microsoft Graph token for the signed-in user: nobody has signed in yet, or the refresh token was refused; an operator signs in at /auth/login (the gateway log has the AADSTS code)',
  'on-behalf-of': 'the on-behalf-of identity exchanges each caller token and has nothing to check ahead of a call',
  'hosted-broker':
    'no Microsoft Graph token from the hosted broker: check BROKER_URL, BROKER_ID, BROKER_TOKEN and BROKER_KEY (the gateway log has the broker answer)',
};

export interface Readiness {
  /** The cached report, or the one probe in flight, or a new probe. */
  check(): Promise<ReadinessReport>;
  /** Forget the cached report (the Graph identity just changed: a sign-in completed). */
  invalidate(): void;
}

export function createReadiness(deps: ReadinessDeps): Readiness {
  const ttlMs = deps.ttlMs ?? READINESS_TTL_MS;
  const now = deps.now ?? Date.now;
  let cached: { report: ReadinessReport; at: number } | undefined;
  let inFlight: Promise<ReadinessReport> | undefined;

  const probe = async (): Promise<ReadinessReport> => {
    const signal = AbortSignal.timeout(deps.timeoutMs ?? READINESS_PROBE_TIMEOUT_MS);
    const settle = async (name: ReadinessCheckName, run: () => Promise<boolean>, reason: string, logged?: Record<string, unknown>): Promise<ReadinessCheck> => {
      try {
        if (await run()) return { name, ok: true };
        if (logged) deps.logger.warn({ check: name, ...logged }, 'readiness probe failed');
      } catch (error) {
        deps.logger.warn({ err: error, check: name, ...logged }, 'readiness probe failed');
      }
      return { name, ok: false, reason };
    };
    const checks = await Promise.all([
      settle('graph-token', () => deps.identity.probe(signal), TOKEN_HINTS[deps.identity.kind]),
      ...(deps.graphReachable
        ? [
            settle(
              'graph-reachable',
              () => deps.graphReachable!(signal),
              // Anyone may read the reason: GRAPH_ENDPOINT may be an internal proxy, so only the log names it.
              "Microsoft Graph did not answer (connection, TLS or proxy failure, or timeout); the gateway log names the endpoint it tried (GRAPH_ENDPOINT or the cloud's)",
              { graphEndpoint: deps.graphEndpoint },
            ),
          ]
        : []),
    ]);
    return {
      status: checks.every((c) => c.ok) ? 'ready' : 'not ready',
      graphIdentity: deps.identity.kind,
      checkedAt: new Date(now()).toISOString(),
      checks,
    };
  };

  let generation = 0;
  return {
    check() {
      if (cached && now() - cached.at < ttlMs) return Promise.resolve(cached.report);
      if (inFlight) return inFlight;
      const started = generation;
      const current = probe()
        .then((report) => {
          // A probe that started before an invalidation must not refill the cache with the old state.
          if (started === generation) cached = { report, at: now() };
          return report;
        })
        .finally(() => {
          if (inFlight === current) inFlight = undefined;
        });
      inFlight = current;
      return current;
    },
    invalidate() {
      generation += 1;
      cached = undefined;
      inFlight = undefined;
    },
  };
}

/**
 * The report with the rate governor's state added, read fresh at every request (it is in memory and
 * costs nothing): a shared budget whose Redis is unreachable makes the gateway `degraded`, still
 * ready; each replica then spends an equal share of the Graph budget (docs/reliability.md#shared-rate-governor).
 * Anyone may read `/readyz`, so the reason names "the shared-state Redis", never its address
 * (`health.location`): the governor's warn line, in the gateway log, has that.
 */
export function withGovernorCheck(report: ReadinessReport, health: GovernorHealth | undefined): ReadinessReport {
  if (!health || health.budget === 'process') return report;
  const check: ReadinessCheck =
    health.budget === 'shared'
      ? { name: 'rate-governor', ok: true }
      : {
          name: 'rate-governor',
          ok: true,
          degraded: true,
          reason:
            `the shared-state Redis (CACHE_URL) is unreachable or refuses the governor's commands: this replica spends an equal share (1/${health.replicas}, ` +
            `${health.replicasSource === 'GRAPH_REPLICAS' ? 'from GRAPH_REPLICAS' : health.replicasSource === 'heartbeats' ? 'replicas last seen in Redis' : 'no replica count known: set GRAPH_REPLICAS'}) ` +
            'of the Graph budget until Redis answers again; check that Redis is up, reachable and not full (a Redis at maxmemory refuses writes); the gateway log names it and the error',
        };
  const checks = [...report.checks, check];
  const status = report.status === 'not ready' ? 'not ready' : check.degraded ? 'degraded' : report.status;
  return { ...report, status, checks };
}
