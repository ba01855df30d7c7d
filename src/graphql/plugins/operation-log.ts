import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { ErrorCode, isGatewayError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { GatewayContext } from '../context.js';
import { INTERNAL_ERROR_PLACEHOLDER } from '../format-error.js';

/**
 * One log line and one duration sample per operation (name, type, duration, outcome, correlation
 * id; never variables, which may hold passwords). Also the second half of error masking: it logs
 * the real cause of every masked error and writes the correlation id into the masked message. And,
 * being the hook that sees every operation end, it ends the operation's deadline timer.
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
          operationName = name ?? null;
          operationType = operation?.operation ?? 'unknown';
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            const cause = error.originalError;
            if (isGatewayError(cause) || (!cause && error.extensions?.code !== ErrorCode.INTERNAL_SERVER_ERROR)) continue;
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
          const hasData = body.kind === 'single' && body.singleResult.data != null;
          const outcome = codes.length === 0 ? 'success' : hasData ? 'partial' : 'error';
          metrics.operationDuration.observe({ operation_type: operationType, outcome }, seconds);
          if (logsOperations()) {
            contextValue.logger.info(
              { operationName, operationType, durationMs: Math.round(seconds * 1000), outcome, ...(codes.length > 0 ? { errorCodes: codes } : {}) },
              'graphql operation',
            );
          }
        },
      };
    },
  };
}
