import type { Config } from '../config-types.js';
import type { EnvReader } from './env-reader.js';

/** What one operation may ask of the gateway: document shape, body size, upstream budget, timeouts, retries. */
export function readLimits(env: EnvReader): Config['limits'] {
  const maxResultValues = env.int(
    'MAX_RESULT_VALUES',
    250_000, // src/graphql/budget/plugin.ts's DEFAULT_MAX_RESULT_VALUES too
    1000,
    10_000_000,
    'field values the answer of one operation may hold at most, estimated before execution',
  );
  const limits = {
    maxDepth: env.int('MAX_QUERY_DEPTH', 10, 2, 100, 'the deepest GraphQL selection allowed'),
    maxAliases: env.int('MAX_ALIASES', 100, 1, 1000, 'aliases allowed in one operation'),
    maxTokens: env.int('MAX_TOKENS', 5000, 100, 100_000, 'GraphQL tokens allowed in one document'),
    maxDirectives: env.int('MAX_DIRECTIVES', 50, 1, 1000, 'directives allowed in one operation'),
    maxBodyBytes: env.int('MAX_BODY_BYTES', 1_000_000, 1024, 50_000_000, 'the largest request body accepted'),
    maxUpstreamRequests: env.int('MAX_UPSTREAM_REQUESTS', 50, 1, 10_000, 'the upstream request budget of one operation'),
    maxEntityRepresentations: env.int(
      'MAX_ENTITY_REPRESENTATIONS',
      1000, // src/graphql/federation/representations-limit.ts's default too
      1,
      1_000_000,
      'representations the `_entities` fields of one operation may carry together (FEDERATION=true)',
    ),
    maxResultValues,
    maxResultValuesInFlight: env.int(
      'MAX_RESULT_VALUES_IN_FLIGHT',
      // Two answers of the largest size allowed: 500,000 by default (src/graphql/budget/answers-in-flight.ts).
      2 * maxResultValues,
      1000,
      100_000_000,
      'field values the answers of all operations executing at once may hold together, estimated before execution',
    ),
    answerWriteGraceMs: env.int(
      'ANSWER_WRITE_GRACE_MS',
      10_000, // src/http/answer-writer.ts's DEFAULT_ANSWER_WRITE_GRACE_MS too
      1_000,
      600_000,
      'the time any answer has to be written to the caller on top of its size at ANSWER_MIN_BYTES_PER_SECOND, in ms',
    ),
    answerMinBytesPerSecond: env.int(
      'ANSWER_MIN_BYTES_PER_SECOND',
      64 * 1024, // src/http/answer-writer.ts's DEFAULT_ANSWER_MIN_BYTES_PER_SECOND too
      1024,
      1_073_741_824,
      'the slowest average rate an answer may be written at: past ANSWER_WRITE_GRACE_MS plus its size at this rate, the connection is closed',
    ),
    upstreamTimeoutMs: env.int('UPSTREAM_TIMEOUT_MS', 15_000, 100, 300_000, 'timeout of one Graph call in ms'),
    operationTimeoutMs: env.int('OPERATION_TIMEOUT_MS', 30_000, 100, 600_000, 'timeout of one GraphQL operation in ms'),
    maxRetries: env.int('MAX_RETRIES', 3, 0, 10, 'retries of a throttled or failed idempotent Graph call'),
    maxConnections: env.int('MAX_CONNECTIONS', 10_000, 10, 1_000_000, 'client connections open at once'),
    maxUpstreamResponseBytes: env.int(
      'MAX_UPSTREAM_RESPONSE_BYTES',
      32 * 2 ** 20, // src/http/upstream.ts's default too
      1_048_576,
      1_073_741_824,
      'the largest answer body read from Microsoft Graph, Entra ID or the hosted broker, in bytes',
    ),
    maxConnectionsPerAddress: env.int(
      'MAX_CONNECTIONS_PER_ADDRESS',
      256,
      1,
      1_000_000,
      'client connections open at once from one address (an IPv6 /64); the peers of TRUSTED_PROXIES are not counted',
    ),
  };
  // Below it, an operation allowed on its own could never run: it would be refused as busy forever.
  if (limits.maxResultValuesInFlight < limits.maxResultValues) {
    env.problem(
      `MAX_RESULT_VALUES_IN_FLIGHT (${limits.maxResultValuesInFlight}) is below MAX_RESULT_VALUES (${limits.maxResultValues}): the answers in flight must leave room for at least one answer of the largest size allowed (e.g. MAX_RESULT_VALUES_IN_FLIGHT=${2 * limits.maxResultValues})`,
    );
  }
  return limits;
}

/** How many failed caller authentications a client address gets before it is refused for a while. */
export function readAuthFailures(env: EnvReader): NonNullable<Config['authFailures']> {
  return {
    limit: env.int('AUTH_FAILURE_LIMIT', 10, 1, 1_000_000, 'failed caller authentications allowed per client address in AUTH_FAILURE_WINDOW_SECONDS'),
    windowSeconds: env.int(
      'AUTH_FAILURE_WINDOW_SECONDS',
      300,
      1,
      86_400,
      'the window of AUTH_FAILURE_LIMIT, in seconds (the address is refused until it ends)',
    ),
  };
}

export function readDrainTimeoutMs(env: EnvReader): number {
  return env.int(
    'DRAIN_TIMEOUT_MS',
    8_000,
    0,
    600_000,
    'on SIGTERM/SIGINT, how long in-flight operations may finish before they are stopped, in ms (keep it below your orchestrator grace period: Docker stops after 10 s)',
  );
}
