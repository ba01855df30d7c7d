import type { GraphQLField, GraphQLResolveInfo } from 'graphql';
import { auditCaller, outcomeOfSteps, type AuditOutcome, type AuditStep } from '../../audit/event.js';
import { auditLogOf } from '../../audit/plugin.js';
import { ErrorCode, GatewayError, isGatewayError } from '../../errors.js';
import type { StepOutcome } from '../../graph/writes.js';
import type { Caller } from '../../identity/types.js';
import { assertCallerMay, requiredPermission } from '../permissions/requirements.js';
import { operationNameForLog } from '../operation-name.js';

/**
 * The frame every mutation resolver runs in: permission check (from the field's
 * `@requiresPermission`, so the SDL stays the single source), then the work, then exactly one
 * audit event whatever happened. Errors keep flowing to the caller after being audited.
 */

export interface MutationContextLike {
  caller: Caller;
  correlationId: string;
}

export interface AuditedResult<T> {
  result: T;
  steps: AuditStep[];
  requestIds: string[];
  /** Defaults to the outcome of the steps. */
  outcome?: AuditOutcome;
  reason?: string;
}

export function auditStep(step: string, outcome: StepOutcome & { caveat?: string | undefined }): AuditStep {
  return {
    step,
    succeeded: outcome.succeeded,
    outcome: outcome.outcome,
    ...(outcome.caveat ? { caveat: outcome.caveat } : {}),
    ...(outcome.status !== undefined ? { status: outcome.status } : {}),
    ...(outcome.succeeded ? {} : { errorCode: outcome.error.code }),
    ...(outcome.requestId ? { requestId: outcome.requestId } : {}),
    ...(outcome.clientRequestId ? { clientRequestId: outcome.clientRequestId } : {}),
  };
}

export async function runAudited<T>(
  ctx: MutationContextLike,
  info: GraphQLResolveInfo,
  targetUser: string | undefined,
  work: () => Promise<AuditedResult<T>>,
): Promise<T> {
  const log = auditLogOf(ctx);
  const base = {
    operation: info.fieldName,
    operationName: operationNameForLog(info.operation.name?.value),
    caller: auditCaller(ctx.caller),
    ...(targetUser ? { targetUser } : {}),
    correlationId: ctx.correlationId,
  };
  const field = info.parentType.getFields()[info.fieldName] as GraphQLField<unknown, unknown> | undefined;
  const permission = field ? requiredPermission(field, info.schema) : undefined;
  if (permission) {
    try {
      assertCallerMay(ctx.caller, permission, `${info.parentType.name}.${info.fieldName}`);
    } catch (error) {
      log.emit({ ...base, outcome: 'refused', reason: ErrorCode.FORBIDDEN, steps: [], requestIds: [] });
      throw error;
    }
  }
  let done: AuditedResult<T>;
  try {
    done = await work();
  } catch (error) {
    forgetCachedReads(ctx);
    const gatewayError = isGatewayError(error) ? error : undefined;
    const requestId = typeof gatewayError?.extensions.requestId === 'string' ? gatewayError.extensions.requestId : undefined;
    log.emit({
      ...base,
      outcome: 'failed',
      reason: gatewayError?.code ?? ErrorCode.INTERNAL_SERVER_ERROR,
      steps: [],
      requestIds: requestId ? [requestId] : [],
    });
    throw error;
  }
  forgetCachedReads(ctx);
  const outcome = done.outcome ?? outcomeOfSteps(done.steps);
  log.emit({ ...base, outcome, ...(done.reason ? { reason: done.reason } : {}), steps: done.steps, requestIds: done.requestIds });
  return done.result;
}

/** After a write, reads of this request must not answer from before it (a second mutation field, the payload). */
function forgetCachedReads(ctx: MutationContextLike): void {
  const loaders = (ctx as { loaders?: Record<string, { clearAll?: () => unknown }> }).loaders;
  if (!loaders) return;
  for (const loader of Object.values(loaders)) loader?.clearAll?.();
}

/**
 * Defence in depth for sensitive inputs: should an upstream message ever quote the password or
 * pass, the error is rebuilt without it before anyone sees it.
 */
export function withoutSecret(error: GatewayError, secret: string): GatewayError {
  if (secret.length < 3) return error;
  const leaks = error.message.includes(secret) || Object.values(error.extensions).some((v) => typeof v === 'string' && v.includes(secret));
  if (!leaks) return error;
  const extensions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error.extensions)) {
    if (key === 'code') continue;
    extensions[key] = typeof value === 'string' ? value.split(secret).join('[redacted]') : value;
  }
  return new GatewayError(error.code, error.message.split(secret).join('[redacted]'), extensions);
}
