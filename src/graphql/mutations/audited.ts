import type { GraphQLField, GraphQLResolveInfo } from 'graphql';
import { auditCaller, auditOperationName, outcomeOfSteps, type AuditOutcome, type AuditStep, type ContainmentRecord } from '../../audit/event.js';
import { auditLogOf } from '../../audit/plugin.js';
import { ErrorCode, GatewayError, isGatewayError } from '../../errors.js';
import type { GraphUsersClient } from '../../graph/api.js';
import type { StepOutcome } from '../../graph/writes.js';
import type { Caller } from '../../identity/types.js';
import { assertCallerMay, requiredPermission } from '../permissions/requirements.js';
import { addressableUserKey, normalizeUserKey } from '../user-id.js';
import { Permission } from '../../permissions.js';
import { refuseAnyAdministratorTarget } from './admin-role-grants.js';
import { ADMINISTRATOR_TARGET } from './admin-targets.js';
import { SIGNED_IN_ACCOUNT, refuseSignedInAccountTarget } from './gateway-account.js';

/**
 * The frame every mutation resolver runs in: permission check (from the field's
 * `@requiresPermission`, so the SDL stays the single source), then the check of its input, then the
 * work, then exactly one audit event whatever happened. Errors keep flowing to the caller after
 * being audited.
 */

export interface MutationContextLike {
  caller: Caller;
  correlationId: string;
  /** Every caller is served as one signed-in account (src/graphql/mutations/gateway-account.ts); with `graph` to tell who it is. */
  sharedGraphAccount?: boolean;
  graph?: Pick<GraphUsersClient, 'me' | 'getUser' | 'roleGrantsOf'>;
}

/**
 * A mutation's input as the caller sent it. The check runs inside the frame: before, resolvers
 * checked their input first, so `disableAccount(input: {user: "../../x"})` or an empty password
 * was answered BAD_USER_INPUT and left no audit event, although nothing else a caller tries does.
 */
export interface MutationInput<C> {
  /** The user it names (`user`, or a new user's `userPrincipalName`) as sent; the event keeps it only when it addresses a user. */
  target: unknown;
  /** Reads and checks the input into what the work needs; what it throws (BAD_USER_INPUT) is a refusal: nothing was sent. */
  check: () => C;
  /** `target` names a user to be created, not one acted on (createUser): it cannot be the signed-in account. */
  newUser?: true;
  /**
   * The write could hand the target's account over (a pass, a password, its MFA methods or sign-in
   * phones): a target holding a directory role then needs `Users.ManageAdmins` too
   * (src/graphql/mutations/admin-targets.ts). A function decides from the checked input (updateUser).
   */
  takeover?: true | ((checked: C) => boolean);
}

/** The input of most mutations: the `user` it acts on, which must address a user (src/graphql/user-id.ts). */
export function userInput(user: string, takeover?: true): MutationInput<string> {
  return { target: user, check: () => normalizeUserKey(user, 'user'), ...(takeover ? { takeover } : {}) };
}

export interface AuditedResult<T> {
  result: T;
  steps: AuditStep[];
  requestIds: string[];
  /** Defaults to the outcome of the steps. */
  outcome?: AuditOutcome;
  reason?: string;
  /** A containment's record (src/graphql/mutations/contained-callers.ts). */
  containment?: ContainmentRecord;
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

export async function runAudited<C, T>(
  ctx: MutationContextLike,
  info: GraphQLResolveInfo,
  input: MutationInput<C>,
  work: (checked: C) => Promise<AuditedResult<T>>,
): Promise<T> {
  const log = auditLogOf(ctx);
  // What the input names, as the refused events of src/audit/plugin.ts name it; for an input that
  // passes its check this is the key the work addresses (normalizeUserKey of the same value).
  const targetUser = addressableUserKey(input.target);
  const base = {
    operation: info.fieldName,
    operationName: auditOperationName(info.operation.name?.value),
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
  let checked: C;
  try {
    checked = input.check();
  } catch (error) {
    // The event says only why (the code); the message may quote the input, a password's length or worse.
    const reason = isGatewayError(error) ? error.code : ErrorCode.INTERNAL_SERVER_ERROR;
    log.emit({ ...base, outcome: isGatewayError(error) ? 'refused' : 'failed', reason, steps: [], requestIds: [] });
    throw error;
  }
  /** The one event of an attempt that ended in `error` after its input passed: refused, or failed with Graph's request-id. */
  const emitEnded = (error: unknown, outcome: 'refused' | 'failed', reasonDetail?: string) => {
    const gatewayError = isGatewayError(error) ? error : undefined;
    const requestId = typeof gatewayError?.extensions.requestId === 'string' ? gatewayError.extensions.requestId : undefined;
    const code = gatewayError?.code ?? ErrorCode.INTERNAL_SERVER_ERROR;
    log.emit({ ...base, outcome, reason: code, ...(reasonDetail ? { reasonDetail } : {}), steps: [], requestIds: requestId ? [requestId] : [] });
  };
  if (ctx.sharedGraphAccount && ctx.graph && targetUser && !input.newUser) {
    try {
      await refuseSignedInAccountTarget(ctx.graph, targetUser);
    } catch (error) {
      // Refused when the target is the signed-in account; a lookup that failed (Graph's own 403 among them) failed.
      emitEnded(error, isGatewayError(error) && error.extensions.reason === SIGNED_IN_ACCOUNT ? 'refused' : 'failed');
      throw error;
    }
  }
  if (input.takeover && targetUser && !input.newUser && !ctx.caller.permissions.has(Permission.UsersManageAdmins)) {
    if (input.takeover === true || input.takeover(checked)) {
      try {
        // Fail closed: a context without a Graph client cannot tell, so it does not write.
        if (!ctx.graph) throw new GatewayError(ErrorCode.INTERNAL_SERVER_ERROR, 'The target of this mutation could not be checked for directory roles.');
        await refuseAnyAdministratorTarget(ctx.graph, targetUser);
      } catch (error) {
        const detail = isGatewayError(error) && typeof error.extensions.reason === 'string' ? error.extensions.reason : undefined;
        emitEnded(error, detail === ADMINISTRATOR_TARGET ? 'refused' : 'failed', detail);
        throw error;
      }
    }
  }
  let done: AuditedResult<T>;
  try {
    done = await work(checked);
  } catch (error) {
    forgetCachedReads(ctx);
    emitEnded(error, 'failed');
    throw error;
  }
  forgetCachedReads(ctx);
  const outcome = done.outcome ?? outcomeOfSteps(done.steps);
  log.emit({
    ...base,
    outcome,
    ...(done.reason ? { reason: done.reason } : {}),
    steps: done.steps,
    ...(done.containment ? { containment: done.containment } : {}),
    requestIds: done.requestIds,
  });
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
