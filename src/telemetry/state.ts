import { createContextKey, context, type Span, type Tracer } from '@opentelemetry/api';

/**
 * Whether traces are on, and the operation being traced. Every hook in the gateway asks
 * `activeTracer()` first and does nothing else when it is undefined: with tracing off (the default)
 * a hook costs one variable read, no span, no context switch.
 */
let tracer: Tracer | undefined;

export function activeTracer(): Tracer | undefined {
  return tracer;
}

/** Set by src/telemetry/tracing.ts when the SDK starts, cleared when it shuts down. */
export function setActiveTracer(value: Tracer | undefined): void {
  tracer = value;
}

/** The GraphQL request being traced (its server span), and what it has cost upstream so far. */
export interface TracedOperation {
  span: Span;
  upstreamRequests: number;
}

export const OPERATION_KEY = createContextKey('msgraph-user-gateway.operation');

/** The operation of the active context (set by src/telemetry/operation.ts around one /graphql request). */
export function currentOperation(): TracedOperation | undefined {
  if (!tracer) return undefined;
  return context.active().getValue(OPERATION_KEY) as TracedOperation | undefined;
}
