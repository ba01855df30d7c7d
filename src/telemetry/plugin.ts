import type { ApolloServerPlugin } from '@apollo/server';
import { SpanStatusCode } from '@opentelemetry/api';
import { httpStatusOf, type ErrorCode } from '../errors.js';
import type { Caller } from '../identity/types.js';
import {
  ATTR_CALLER_KIND,
  ATTR_CALLER_PRINCIPAL,
  ATTR_CORRELATION_ID,
  ATTR_ERROR_CODES,
  ATTR_GRAPHQL_OPERATION_NAME,
  ATTR_GRAPHQL_OPERATION_TYPE,
} from './attributes.js';
import { currentOperation } from './state.js';
import { auditOperationName } from '../audit/event.js';

/**
 * Names and labels the operation's span (started around the HTTP request by
 * src/telemetry/operation.ts): `query UserCard`, the operation type and name, the kind of caller
 * (never its key, token or subject), the correlation id of the log lines, and the public error
 * codes of the answer. Never the document, the variables or a message. Without a traced operation
 * (tracing off, or this request not sampled) it adds no hook at all.
 */
export function tracingPlugin<TContext extends { caller: Caller; correlationId: string }>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart({ contextValue }) {
      const span = currentOperation()?.span;
      if (!span?.isRecording()) return;
      span.setAttribute(ATTR_CALLER_KIND, contextValue.caller.kind);
      if (contextValue.caller.kind === 'entra') span.setAttribute(ATTR_CALLER_PRINCIPAL, contextValue.caller.principal);
      span.setAttribute(ATTR_CORRELATION_ID, contextValue.correlationId);
      return {
        async didResolveOperation({ operationName: fullName, operation }) {
          const type = operation?.operation;
          if (!type) return;
          // The logs' and audit events' rule: a name is one token, as long as the body allows, and a span carries it twice.
          const operationName = auditOperationName(fullName);
          span.updateName(operationName ? `${type} ${operationName}` : type);
          span.setAttribute(ATTR_GRAPHQL_OPERATION_TYPE, type);
          if (operationName) span.setAttribute(ATTR_GRAPHQL_OPERATION_NAME, operationName);
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          if (!errors || errors.length === 0) return;
          const codes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN')))];
          span.setAttribute(ATTR_ERROR_CODES, codes);
          // The gateway's or Graph's fault is an error of the span; a caller's mistake (4xx) is not.
          if (codes.some((code) => (httpStatusOf[code as ErrorCode] ?? 500) >= 500)) span.setStatus({ code: SpanStatusCode.ERROR });
        },
      };
    },
  };
}
