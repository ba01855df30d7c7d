import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_UPSTREAM_REQUESTS, ATTR_URL_PATH } from './attributes.js';
import { OPERATION_KEY, activeTracer, type TracedOperation } from './state.js';

const KNOWN_METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE']);

/**
 * The span of one `/graphql` request (docs/operations.md#traces): a child of the caller's W3C
 * `traceparent`/`tracestate` when it sent them, the parent of every Graph exchange the operation
 * makes. Named `POST /graphql` until the Apollo plugin (src/telemetry/plugin.ts) knows the
 * operation, then `query UserCard`. With tracing off: `run()`, nothing else.
 */
export function traceGraphqlRequest(req: IncomingMessage, res: ServerResponse, run: () => Promise<void>): Promise<void> {
  const tracer = activeTracer();
  if (!tracer) return run();
  // The propagator validates both headers (version, lengths, hex, list size) and drops what does not parse.
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const method = KNOWN_METHODS.has(req.method ?? '') ? req.method! : '_OTHER';
  const span = tracer.startSpan(
    `${method} /graphql`,
    { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_HTTP_ROUTE]: '/graphql', [ATTR_URL_PATH]: '/graphql' } },
    parent,
  );
  const operation: TracedOperation = { span, upstreamRequests: 0 };
  const finish = () => {
    if (span.isRecording()) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      span.setAttribute(ATTR_UPSTREAM_REQUESTS, operation.upstreamRequests);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
  return context.with(trace.setSpan(parent.setValue(OPERATION_KEY, operation), span), run).then(finish, (error: unknown) => {
    span.setStatus({ code: SpanStatusCode.ERROR });
    finish();
    throw error;
  });
}
