import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { ErrorCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { GatewayContext } from '../context.js';
import { INTERNAL_ERROR_PLACEHOLDER, formatGatewayError } from '../format-error.js';
import { auditOperationName } from '../../audit/event.js';

/**
 * One log line and one duration sample per operation (name, type, duration, outcome, correlation
 * id, error codes and reasons; never variables or error messages, which may echo a password).
 * A caller's mistake (BAD_USER_INPUT, a validation or parse error, FORBIDDEN,
 * OPERATION_TOO_COMPLEX, UNSUPPORTED_DEPLOYMENT_MODE...) is only that one `info` line: a single
 * bad request can carry hundreds of validation errors, and a stack per error turned one 6 KB
 * request into 137 KB of `error` log. Only our own faults (what the caller sees as
 * INTERNAL_SERVER_ERROR) are logged at `error`, with their stack. This plugin is also the second
 * half of error masking: it writes the correlation id into the masked message. And, being the hook
 * that sees every operation end, it ends the operation's deadline timer.
 */
export function operationLogPlugin(metrics: GatewayMetrics, logger?: Pick<Logger, 'isLevelEnabled'>): ApolloServerPlugin<GatewayContext> {
  // The per-operation line is info: at warn and above, neither it nor the context's child logger is built.
  const logsOperations = () => logger?.isLevelEnabled('info') ?? true;
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      let operationName: string | null = null;
      let operationType = 'unknown';
      return {
        async didResolveOperation({ operationName: name, operation }) {
          operationName = auditOperationName(name);
          operationType = operation?.operation ?? 'unknown';
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            // Classified exactly as the caller will see it (formatError is the only path to the caller).
            if (formatGatewayError(error.toJSON(), error).extensions?.code !== ErrorCode.INTERNAL_SERVER_ERROR) continue;
            const cause = error.originalError;
            contextValue.logger.error({ err: cause ?? (error as GraphQLError), path: error.path }, 'unexpected error while executing an operation');
          }
        },
        async willSendResponse({ response }) {
          contextValue.endOperation?.();
          const body = response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : undefined;
          for (const error of errors ?? []) {
            if (error.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR && error.message === INTERNAL_ERROR_PLACEHOLDER) {
              (error as { message: string }).message = `Internal error (correlation id ${contextValue.correlationId})`;
              (error.extensions as Record<string, unknown>).correlationId = contextValue.correlationId;
            }
          }
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const codes = [...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? 'UNKNOWN')))];
          // `reason` (GRAPHQL_VALIDATION_FAILED, PAYLOAD_TOO_LARGE...) and `limit` (maxDepth...) are closed vocabularies, safe to log.
          const reasons = [
            ...new Set((errors ?? []).flatMap((e) => [e.extensions?.reason, e.extensions?.limit].filter((v): v is string => typeof v === 'string'))),
          ];
          const hasData = body.kind === 'single' && body.singleResult.data != null;
          const outcome = codes.length === 0 ? 'success' : hasData ? 'partial' : 'error';
          metrics.operationDuration.observe({ operation_type: operationType, outcome }, seconds);
          if (logsOperations()) {
            contextValue.logger.info(
              {
                operationName,
                operationType,
                durationMs: Math.round(seconds * 1000),
                outcome,
                ...(codes.length > 0 ? { errorCodes: codes } : {}),
                ...(reasons.length > 0 ? { errorReasons: reasons } : {}),
              },
              'graphql operation',
            );
          }
        },
      };
    },
  };
}
