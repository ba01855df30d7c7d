import type { GraphQLResolveInfo } from 'graphql';
import type { Resolvers } from '../../generated/graphql.js';
import { ErrorCode, GatewayError, badInput } from '../../errors.js';
import type { GraphUser } from '../../graph/api.js';
import { isGuid } from '../../guid.js';
import { createGraphWrites, type GraphPrimitives, type GraphWrites, type WriteOutcome } from '../../graph/writes.js';
import type { GatewayContext } from '../context.js';
import { markManagerExpanded } from '../manager-expansion.js';
import { deletableAuthMethodKind } from '../resolvers/authentication-methods.js';
import { planUserSelection } from '../select.js';
import { normalizeUserKey } from '../user-id.js';
import type { AuditStep } from '../../audit/event.js';
import { auditStep, runAudited, withoutSecret } from './audited.js';

/**
 * Resolvers of the Mutation type and its payloads. Each mutation: normalise the target, check the
 * caller (runAudited), call one domain write (src/graph/writes.ts), turn the outcome into a
 * payload, and leave one audit event. Payloads carry the user's key; the `user` field fetches only
 * what the caller selected, after the write, so it shows the new state.
 */

export interface MutationResolverOptions {
  /** Graph endpoint without version, e.g. `https://graph.microsoft.com` (used in `@odata.id` references). */
  graphEndpoint: string;
  /** Upper bound for following an on-premises password reset (default 60 s). */
  passwordResetTimeoutMs?: number;
  /** Wait between polls when Graph gives no Retry-After (default 1 s). */
  pollIntervalMs?: number;
}

/** What every payload's `user` field resolves from. */
export interface UserRef {
  userKey: string;
  /** A user object Graph already returned (createUser), used when it covers the selection. */
  known?: GraphUser;
}

type Args<T> = { input: T };
type Resolver<TArgs, TResult> = (parent: unknown, args: TArgs, ctx: GatewayContext, info: GraphQLResolveInfo) => Promise<TResult>;

/** UpdateUserInput fields, sent as Graph properties of the same name. */
const UPDATABLE = [
  'displayName',
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'officeLocation',
  'mobilePhone',
  'businessPhones',
  'employeeId',
  'companyName',
  'city',
  'country',
  'preferredLanguage',
  'usageLocation',
  'employeeType',
] as const;

const CREATE_OPTIONAL = [
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'officeLocation',
  'mobilePhone',
  'employeeId',
  'companyName',
  'usageLocation',
  'onPremisesImmutableId',
] as const;

const TAP_MIN_MINUTES = 10;
const TAP_MAX_MINUTES = 43_200;

/** Graph request-ids in order, each once (the items of one `$batch` share the envelope's). */
function requestIdsOf(...outcomes: Array<{ requestId?: string | undefined }>): string[] {
  return [...new Set(outcomes.map((o) => o.requestId).filter((id): id is string => typeof id === 'string'))];
}

/** A single-call write as a payload, or its error thrown (after the audit records it). */
function single<T>(step: string, outcome: WriteOutcome<T>, secret?: string) {
  if (!outcome.succeeded) {
    const error = secret ? withoutSecret(outcome.error, secret) : outcome.error;
    return { failed: error, steps: [auditStep(step, outcome)], requestIds: requestIdsOf(outcome) };
  }
  return { failed: undefined, value: outcome.value, requestId: outcome.requestId, steps: [auditStep(step, outcome)], requestIds: requestIdsOf(outcome) };
}

/** A step's error as the schema's StepError: code, safe message, request-id and, when retrying makes sense, when. */
function stepError(error: GatewayError, requestId: string | undefined) {
  const retryAfterSeconds = error.extensions.retryAfterSeconds;
  return {
    code: error.code,
    message: error.message,
    requestId: requestId ?? null,
    retryAfterSeconds: typeof retryAfterSeconds === 'number' ? retryAfterSeconds : null,
  };
}

/**
 * Failed single-step writes are still audited with their step and request-id: the audit frame
 * records the result (`failed`, or `unknown` when Graph may have applied it), then the error is
 * thrown to the caller.
 */
async function auditedSingle<T, R>(
  ctx: GatewayContext,
  info: GraphQLResolveInfo,
  target: string,
  step: string,
  run: () => Promise<WriteOutcome<T>>,
  toPayload: (value: T, requestId: string | undefined) => R,
  secret?: string,
): Promise<R> {
  let failure: GatewayError | undefined;
  const payload = await runAudited(ctx, info, target, async () => {
    const done = single(step, await run(), secret);
    if (done.failed) {
      failure = done.failed;
      return { result: undefined, steps: done.steps, requestIds: done.requestIds, reason: done.failed.code };
    }
    return { result: toPayload(done.value as T, done.requestId), steps: done.steps, requestIds: done.requestIds };
  });
  if (failure) throw failure;
  return payload as R;
}

export function createMutationResolvers(options: MutationResolverOptions): Resolvers {
  return buildMutationResolvers(options) as unknown as Resolvers;
}

/**
 * Typed against the input shapes rather than the generated resolver types: payloads resolve their
 * `user` from a `UserRef` (see payloadUser), which codegen's mappers do not describe.
 */
function buildMutationResolvers(options: MutationResolverOptions) {
  const writesByContext = new WeakMap<object, GraphWrites>();

  function writesOf(ctx: GatewayContext): GraphWrites {
    let writes = writesByContext.get(ctx);
    if (!writes) {
      const graph = ctx.graph as unknown as Partial<GraphPrimitives>;
      if (typeof graph.request !== 'function' || typeof graph.batch !== 'function') {
        throw new GatewayError(ErrorCode.INTERNAL_SERVER_ERROR, 'The Graph client of this request offers no write primitives.');
      }
      writes = createGraphWrites({
        graph: graph as GraphPrimitives,
        graphEndpoint: options.graphEndpoint,
        ...(options.passwordResetTimeoutMs !== undefined ? { passwordResetTimeoutMs: options.passwordResetTimeoutMs } : {}),
        ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
      });
      writesByContext.set(ctx, writes);
    }
    return writes;
  }

  /** A mutation on one `user` that is one audited write; its payload is `fields` plus the write's request-id. */
  function singleUserWrite<T>(
    step: string,
    write: (writes: GraphWrites, user: string) => Promise<WriteOutcome<T>>,
    fields: (user: string) => Record<string, unknown>,
  ): Resolver<Args<{ user: string }>, unknown> {
    return async (_p, { input }, ctx, info) => {
      const user = normalizeUserKey(input.user, 'user');
      return auditedSingle(
        ctx,
        info,
        user,
        step,
        () => write(writesOf(ctx), user),
        (_v, requestId) => ({ ...fields(user), requestId: requestId ?? null }),
      );
    };
  }

  const terminateSession: Resolver<Args<{ user: string; disableAccount?: boolean | null }>, unknown> = async (_p, { input }, ctx, info) => {
    const user = normalizeUserKey(input.user, 'user');
    const disableAccount = input.disableAccount !== false;
    let failure: GatewayError | undefined;
    const payload = await runAudited(ctx, info, user, async () => {
      const result = await writesOf(ctx).terminateSession(user, { disableAccount });
      const steps = result.steps.map((s) => auditStep(s.step, s));
      const requestIds = requestIdsOf(...result.steps);
      // A user that does not exist is not a partial result: when every step failed (none may have
      // been applied) and Graph answered 404, the mutation is a NOT_FOUND error (Graph's request-id
      // in its extensions).
      const missing = result.steps.every((s) => s.outcome === 'FAILED')
        ? result.steps.find((s) => !s.succeeded && s.error.code === ErrorCode.NOT_FOUND)
        : undefined;
      if (missing && !missing.succeeded) {
        failure = missing.error;
        return { result: undefined, steps, requestIds, reason: ErrorCode.NOT_FOUND };
      }
      const shown = result.steps.map((s) => ({
        step: s.step,
        succeeded: s.succeeded,
        outcome: s.outcome,
        requestId: s.requestId ?? null,
        clientRequestId: s.clientRequestId ?? null,
        error: s.succeeded ? null : stepError(s.error, s.requestId),
      }));
      return { result: { userKey: user, steps: shown, succeeded: shown.every((s) => s.succeeded) }, steps, requestIds };
    });
    if (failure) throw failure;
    return payload;
  };

  const changePassword: Resolver<
    Args<{ user: string; password: string; forceChangePasswordNextSignIn?: boolean | null; forceChangePasswordNextSignInWithMfa?: boolean | null }>,
    unknown
  > = async (_p, { input }, ctx, info) => {
    const user = normalizeUserKey(input.user, 'user');
    if (typeof input.password !== 'string' || input.password.length === 0) throw badInput('`password` must not be empty.');
    const force = input.forceChangePasswordNextSignIn !== false;
    const withMfa = input.forceChangePasswordNextSignInWithMfa === true;
    return auditedSingle(
      ctx,
      info,
      user,
      'SET_PASSWORD',
      () => writesOf(ctx).setPassword(user, { password: input.password, forceChangePasswordNextSignIn: force, forceChangePasswordNextSignInWithMfa: withMfa }),
      (_v, requestId) => ({ userKey: user, forceChangePasswordNextSignIn: force, forceChangePasswordNextSignInWithMfa: withMfa, requestId: requestId ?? null }),
      input.password,
    );
  };

  const forceResetPassword = singleUserWrite(
    'FORCE_PASSWORD_CHANGE',
    (writes, user) => writes.forceResetPassword(user),
    (user) => ({
      userKey: user,
      forceChangePasswordNextSignIn: true,
    }),
  );

  const changePasswordOnPremises: Resolver<Args<{ user: string; password: string }>, unknown> = async (_p, { input }, ctx, info) => {
    const user = normalizeUserKey(input.user, 'user');
    if (typeof input.password !== 'string' || input.password.length === 0) throw badInput('`password` must not be empty.');
    let failure: GatewayError | undefined;
    const payload = await runAudited(ctx, info, user, async () => {
      const outcome = await writesOf(ctx).resetPasswordOnPremises(user, input.password);
      const requestIds = outcome.requestIds;
      if (!outcome.succeeded) {
        failure = withoutSecret(outcome.error, input.password);
        return { result: undefined, steps: [auditStep('RESET_PASSWORD', outcome)], requestIds, reason: failure.code };
      }
      const op = outcome.value;
      // Graph accepted the reset; an operation still running when the gateway stopped following it
      // may yet succeed: its outcome is unknown, not failed.
      const operationOutcome = op.status === 'SUCCEEDED' ? 'SUCCEEDED' : op.status === 'FAILED' ? 'FAILED' : 'UNKNOWN';
      const steps: AuditStep[] = [
        auditStep('RESET_PASSWORD', outcome),
        { step: 'OPERATION', succeeded: operationOutcome === 'SUCCEEDED', outcome: operationOutcome },
      ];
      return {
        result: { userKey: user, status: op.status, statusDetail: op.statusDetail ?? null, operationId: op.operationId ?? null, polls: op.polls },
        steps,
        requestIds: op.requestIds,
        ...(op.status === 'SUCCEEDED' ? {} : { reason: `OPERATION_${op.status}` }),
        ...(op.status === 'FAILED' ? { outcome: 'failed' as const } : {}),
      };
    });
    if (failure) throw failure;
    return payload;
  };

  const accountStatus =
    (enabled: boolean): Resolver<Args<{ user: string }>, unknown> =>
    async (_p, { input }, ctx, info) => {
      const user = normalizeUserKey(input.user, 'user');
      const writes = writesOf(ctx);
      return auditedSingle(
        ctx,
        info,
        user,
        enabled ? 'ENABLE_ACCOUNT' : 'DISABLE_ACCOUNT',
        () => (enabled ? writes.enableAccount(user) : writes.disableAccount(user)),
        (_v, requestId) => ({ userKey: user, accountEnabled: enabled, requestId: requestId ?? null }),
      );
    };

  const revokeSignInSessions = singleUserWrite(
    'REVOKE_SESSIONS',
    (writes, user) => writes.revokeSignInSessions(user),
    (user) => ({
      userKey: user,
      revoked: true,
    }),
  );

  const createUser: Resolver<Args<Record<string, unknown>>, unknown> = async (_p, { input }, ctx, info) => {
    const upn = String(input.userPrincipalName ?? '');
    normalizeUserKey(upn, 'userPrincipalName');
    const password = String(input.password ?? '');
    if (password.length === 0) throw badInput('`password` must not be empty.');
    const properties: Record<string, unknown> = {};
    for (const key of CREATE_OPTIONAL) if (input[key] !== undefined && input[key] !== null) properties[key] = input[key];
    return auditedSingle(
      ctx,
      info,
      upn,
      'CREATE_USER',
      () =>
        writesOf(ctx).createUser({
          userPrincipalName: upn,
          displayName: String(input.displayName),
          mailNickname: String(input.mailNickname),
          password,
          accountEnabled: input.accountEnabled !== false,
          forceChangePasswordNextSignIn: input.forceChangePasswordNextSignIn !== false,
          properties,
        }),
      (created, requestId) => ({ userKey: typeof created?.id === 'string' ? created.id : upn, known: created, requestId: requestId ?? null }),
      password,
    );
  };

  const updateUser: Resolver<Args<Record<string, unknown>>, unknown> = async (_p, { input }, ctx, info) => {
    const user = normalizeUserKey(String(input.user ?? ''), 'user');
    const changes: Record<string, unknown> = {};
    for (const key of UPDATABLE) if (key in input && input[key] !== undefined) changes[key] = input[key];
    if (Object.keys(changes).length === 0) throw badInput('`updateUser` needs at least one property to change besides `user`.');
    if (changes.displayName === null) throw badInput('`displayName` cannot be cleared.');
    return auditedSingle(
      ctx,
      info,
      user,
      'UPDATE_USER',
      () => writesOf(ctx).updateUser(user, changes),
      (_v, requestId) => ({
        userKey: user,
        updatedFields: Object.keys(changes),
        requestId: requestId ?? null,
      }),
    );
  };

  const deleteUser = singleUserWrite(
    'DELETE_USER',
    (writes, user) => writes.deleteUser(user),
    (user) => ({
      deletedUser: user,
      deleted: true,
    }),
  );

  /**
   * Graph takes the manager as an `@odata.id` naming its object id (docs/graph-facts.md#manager-and-bulk-lookup),
   * so a userPrincipalName is looked up first: one `$select=id` GET, none for a GUID, and one per
   * request for a UPN used several times. Both steps are audited.
   */
  const assignManager: Resolver<Args<{ user: string; manager: string }>, unknown> = async (_p, { input }, ctx, info) => {
    const user = normalizeUserKey(input.user, 'user');
    const manager = normalizeUserKey(input.manager, 'manager');
    if (user.toLowerCase() === manager.toLowerCase()) throw badInput('A user cannot be their own manager.', { argument: 'manager' });
    let failure: GatewayError | undefined;
    const payload = await runAudited(ctx, info, user, async () => {
      const writes = writesOf(ctx);
      const resolved = await writes.resolveUserId(manager, 'manager');
      const lookupSteps: AuditStep[] = isGuid(manager)
        ? []
        : [
            {
              step: 'RESOLVE_MANAGER',
              succeeded: resolved.found,
              outcome: resolved.found ? 'SUCCEEDED' : 'FAILED',
              ...(resolved.found ? {} : { errorCode: resolved.error.code, ...(resolved.status !== undefined ? { status: resolved.status } : {}) }),
              ...(resolved.requestId ? { requestId: resolved.requestId } : {}),
            },
          ];
      const lookupIds = resolved.requestId ? [resolved.requestId] : [];
      if (!resolved.found) {
        failure = resolved.error;
        return { result: undefined, steps: lookupSteps, requestIds: lookupIds, reason: resolved.error.code };
      }
      if (isGuid(user) && user.toLowerCase() === resolved.id) {
        failure = badInput('A user cannot be their own manager.', { argument: 'manager' });
        return { result: undefined, steps: lookupSteps, requestIds: lookupIds, reason: failure.code };
      }
      const done = single('ASSIGN_MANAGER', await writes.assignManager(user, resolved.id));
      const steps = [...lookupSteps, ...done.steps];
      const requestIds = [...lookupIds, ...done.requestIds];
      if (done.failed) {
        failure = done.failed;
        return { result: undefined, steps, requestIds, reason: done.failed.code };
      }
      return { result: { userKey: user, requestId: done.requestId ?? null }, steps, requestIds };
    });
    if (failure) throw failure;
    return payload;
  };

  const removeManager = singleUserWrite(
    'REMOVE_MANAGER',
    (writes, user) => writes.removeManager(user),
    (user) => ({ userKey: user }),
  );

  const deleteMethod = (user: string, type: string, methodId: string, ctx: GatewayContext, info: GraphQLResolveInfo) => {
    const kind = deletableAuthMethodKind(type);
    if (!kind) throw badInput(`Authentication methods of type ${type} cannot be deleted${type === 'PASSWORD' ? ' (reset the password instead)' : ''}.`);
    return auditedSingle(
      ctx,
      info,
      user,
      `DELETE_${type}_METHOD`,
      () => writesOf(ctx).deleteAuthMethod(user, kind, methodId),
      (_v, requestId) => ({
        userKey: user,
        type,
        methodId,
        requestId: requestId ?? null,
      }),
    );
  };

  const deleteAuthenticationMethod: Resolver<Args<{ user: string; type: string; methodId: string }>, unknown> = async (_p, { input }, ctx, info) =>
    deleteMethod(normalizeUserKey(input.user, 'user'), input.type, input.methodId, ctx, info);

  const deleteTemporaryAccessPass: Resolver<Args<{ user: string; methodId: string }>, unknown> = async (_p, { input }, ctx, info) =>
    deleteMethod(normalizeUserKey(input.user, 'user'), 'TEMPORARY_ACCESS_PASS', input.methodId, ctx, info);

  const createTemporaryAccessPass: Resolver<
    Args<{ user: string; lifetimeInMinutes?: number | null; isUsableOnce?: boolean | null; startDateTime?: string | null }>,
    unknown
  > = async (_p, { input }, ctx, info) => {
    const user = normalizeUserKey(input.user, 'user');
    const lifetimeInMinutes = input.lifetimeInMinutes ?? 60;
    if (!Number.isInteger(lifetimeInMinutes) || lifetimeInMinutes < TAP_MIN_MINUTES || lifetimeInMinutes > TAP_MAX_MINUTES) {
      throw badInput(`\`lifetimeInMinutes\` must be between ${TAP_MIN_MINUTES} and ${TAP_MAX_MINUTES}; received ${lifetimeInMinutes}.`, {
        argument: 'lifetimeInMinutes',
      });
    }
    const isUsableOnce = input.isUsableOnce === true;
    return auditedSingle(
      ctx,
      info,
      user,
      'CREATE_TEMPORARY_ACCESS_PASS',
      () =>
        writesOf(ctx).createTemporaryAccessPass(user, {
          lifetimeInMinutes,
          isUsableOnce,
          ...(input.startDateTime ? { startDateTime: input.startDateTime } : {}),
        }),
      (created, requestId) => {
        if (typeof created?.temporaryAccessPass !== 'string' || typeof created.id !== 'string') {
          throw new GatewayError(
            ErrorCode.UPSTREAM_ERROR,
            'Microsoft Graph created the Temporary Access Pass but did not return it.',
            requestId ? { requestId } : {},
          );
        }
        return {
          userKey: user,
          temporaryAccessPass: {
            id: created.id,
            temporaryAccessPass: created.temporaryAccessPass,
            startDateTime: created.startDateTime ?? null,
            lifetimeInMinutes: typeof created.lifetimeInMinutes === 'number' ? created.lifetimeInMinutes : lifetimeInMinutes,
            isUsableOnce: typeof created.isUsableOnce === 'boolean' ? created.isUsableOnce : isUsableOnce,
            isUsable: created.isUsable ?? null,
            methodUsabilityReason: created.methodUsabilityReason ?? null,
          },
          requestId: requestId ?? null,
        };
      },
    );
  };

  /** Only what the caller selected, fetched after the write (so it shows the new state). */
  const payloadUser = async (parent: UserRef, _args: unknown, ctx: GatewayContext, info: GraphQLResolveInfo): Promise<GraphUser> => {
    const plan = planUserSelection(info, info.fieldNodes);
    const known = parent.known;
    if (known && !plan.expandManager && plan.select.every((p) => p in known)) return known;
    // `user { id }` after a write addressed by object id costs nothing more.
    if (!plan.expandManager && plan.select.length === 1 && isGuid(parent.userKey)) return { id: parent.userKey };
    const user = await ctx.loaders.user.load({
      key: parent.userKey,
      select: plan.select,
      ...(plan.expandManager ? { expandManager: plan.expandManager } : {}),
    } as never);
    if (user && plan.expandManager) markManagerExpanded(user, plan.expandManager);
    // Replication can lag right after a write; the id is still worth returning.
    return user ?? known ?? { id: parent.userKey };
  };

  const withUser = { user: payloadUser };

  return {
    Mutation: {
      terminateSession,
      changePassword,
      forceResetPassword,
      changePasswordOnPremises,
      disableAccount: accountStatus(false),
      enableAccount: accountStatus(true),
      revokeSignInSessions,
      createUser,
      updateUser,
      deleteUser,
      assignManager,
      removeManager,
      deleteAuthenticationMethod,
      createTemporaryAccessPass,
      deleteTemporaryAccessPass,
    },
    TerminateSessionPayload: withUser,
    ChangePasswordPayload: withUser,
    ForceResetPasswordPayload: withUser,
    ChangePasswordOnPremisesPayload: withUser,
    AccountStatusPayload: withUser,
    RevokeSignInSessionsPayload: withUser,
    CreateUserPayload: withUser,
    UpdateUserPayload: withUser,
    ManagerPayload: withUser,
    DeleteAuthenticationMethodPayload: withUser,
    CreateTemporaryAccessPassPayload: withUser,
  };
}

export type MutationResolvers = ReturnType<typeof buildMutationResolvers>;
