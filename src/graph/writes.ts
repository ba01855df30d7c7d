import { ErrorCode, GatewayError, type GatewayErrorExtensions } from '../errors.js';
import type { DeletableAuthMethodKind, GraphDirectoryObject, GraphUser } from './api.js';
import { DEFAULT_RETRY_HINT_SECONDS, safeGraphMessage } from './errors.js';
import { isGuid } from '../guid.js';
import { validateContinuationLink } from './paging.js';
import { externalUserLookup, sessionsReach, type SessionsReach } from './external-users.js';
import { graphPaths, type GraphPath } from './paths.js';
import { parseRetryAfter } from '../http/retry-after.js';
import { abortableSleep } from './retry.js';
import { effectOf, type GraphRequest, type GraphResult, type RequestEffect } from './types.js';

/**
 * Domain write methods over the Graph client's primitives (`request`, `batch`). Each method names
 * what it does to a user; URLs, bodies and what a repeat would do (`effect`) live here so resolvers
 * never see them. Failures come back as values (`WriteOutcome`) carrying Graph's request-id and the
 * gateway's client-request-id, so a caller can report every step of a multi-step write, and audit
 * it, without try/catch archaeology.
 *
 * Every write ends SUCCEEDED, FAILED (Graph did not apply it) or UNKNOWN (it was sent and no
 * conclusive answer came back: Graph may have applied it). An UNKNOWN write is never repeated by
 * the gateway; its error says so and names the client-request-id to trace it
 * (docs/security.md#writes-with-an-unknown-outcome).
 *
 * Secrets (passwords, Temporary Access Passes) only ever travel in request bodies, which the
 * transport never logs; nothing here puts them in an error message.
 */

/** The two primitives `createGraphClient(deps)` exposes (structural, so any client fits). */
export interface GraphPrimitives {
  request<T = unknown>(req: GraphRequest): Promise<GraphResult<T>>;
  batch(reqs: GraphRequest[]): Promise<GraphResult[]>;
}

export interface GraphWritesDeps {
  graph: GraphPrimitives;
  /** e.g. `https://graph.microsoft.com` (no version): long-running operation links must point here. */
  graphEndpoint: string;
  /** Upper bound for following a password reset operation (default 60 s). */
  passwordResetTimeoutMs?: number;
  /** Wait between polls when Graph sends no Retry-After (default 1 s). */
  pollIntervalMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  signal?: AbortSignal;
}

/** One Graph call's outcome, safe to show and to audit (no bodies). */
export type StepOutcome =
  | { outcome: 'SUCCEEDED'; succeeded: true; requestId: string | undefined; clientRequestId: string | undefined; status: number }
  | {
      outcome: 'FAILED' | 'UNKNOWN';
      succeeded: false;
      requestId: string | undefined;
      clientRequestId: string | undefined;
      status: number | undefined;
      error: GatewayError;
    };

export type WriteOutcome<T = undefined> = (StepOutcome & { succeeded: false }) | (StepOutcome & { succeeded: true; value: T });

/** What the read after forceResetPassword's PATCH showed, and how that read went. */
export interface ForceChangeConfirmation {
  /** Graph shows the flag set (true) or unset (false); null when the read failed or showed no flag. */
  confirmed: boolean | null;
  read: StepOutcome;
}

export type TerminateStep = 'REVOKE_SESSIONS' | 'DISABLE_ACCOUNT';

export interface TerminateSessionResult {
  /** `caveat`: why a step Graph applied may not do what its name says (an external user's sessions). */
  steps: Array<{ step: TerminateStep; caveat?: string } & StepOutcome>;
}

/** Status of a password reset long-running operation (Graph's `longRunningOperationStatus`). */
export type PasswordResetStatus = 'NOT_STARTED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

export interface PasswordResetResult {
  status: PasswordResetStatus;
  /** Graph's operation id (last segment of the Location link). */
  operationId: string | undefined;
  /** Graph's `statusDetail` when it gave one (never contains the password). */
  statusDetail: string | undefined;
  /** Every Graph request-id of the lookups, the reset and each poll. */
  requestIds: string[];
  /** How many times the operation was polled. */
  polls: number;
}

/**
 * What a caller asked of a new pass. Each property is optional in Graph and sent only when given:
 * Graph fills an omitted one from the tenant's Temporary Access Pass policy
 * (docs/graph-facts.md#temporary-access-pass).
 */
export interface TemporaryAccessPassRequest {
  /** Omitted: the policy's defaultLifetimeInMinutes. */
  lifetimeInMinutes?: number;
  /** Omitted: left to the policy (one-time where it enforces one-time use). */
  isUsableOnce?: boolean;
  /** ISO 8601; omitted means now. */
  startDateTime?: string;
}

/** A created TAP: the one and only time Graph hands out `temporaryAccessPass`. */
export interface CreatedTemporaryAccessPass extends GraphDirectoryObject {
  temporaryAccessPass?: string;
  startDateTime?: string | null;
  lifetimeInMinutes?: number;
  isUsableOnce?: boolean;
  isUsable?: boolean | null;
  methodUsabilityReason?: string | null;
}

export interface CreateUserRequest {
  accountEnabled: boolean;
  displayName: string;
  mailNickname: string;
  userPrincipalName: string;
  password: string;
  forceChangePasswordNextSignIn: boolean;
  /** Further Graph user properties, already typed by the schema (booleans are booleans). */
  properties?: Record<string, unknown>;
}

/** An object id looked up from a userPrincipalName (or given as one), or why it could not be. */
export type UserIdResolution =
  | {
      found: true;
      id: string;
      requestId: string | undefined;
      /** Graph's status and the gateway's client-request-id when a lookup was sent (a GUID or a UPN already looked up in the request sends none). */
      status?: number;
      clientRequestId?: string | undefined;
    }
  | { found: false; error: GatewayError; requestId: string | undefined; status: number | undefined; clientRequestId?: string | undefined };

/** Graph's id for every user's password method (docs/graph-facts.md#writes-and-permissions). */
export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';
const PASSWORD_METHOD_TYPE = '#microsoft.graph.passwordAuthenticationMethod';

const OPERATION_SHAPE = {
  template: '/users/{id}/authentication/operations/{operationId}',
  pattern: /^\/(?:users\/[^/]+|users\('[^/]+'\)|me)\/authentication\/operations\/[^/]+\/?$/i,
};

export interface GraphWrites {
  disableAccount(user: string): Promise<WriteOutcome>;
  enableAccount(user: string): Promise<WriteOutcome>;
  /** The revocation and a lookup of who the user is, in one `$batch`: an external user's sessions are not revoked. */
  revokeSignInSessions(user: string): Promise<WriteOutcome<SessionsReach>>;
  /** revokeSignInSessions (+ accountEnabled:false) in ONE `$batch` round trip, each step reported. */
  terminateSession(user: string, options: { disableAccount: boolean }): Promise<TerminateSessionResult>;
  setPassword(
    user: string,
    input: { password: string; forceChangePasswordNextSignIn: boolean; forceChangePasswordNextSignInWithMfa: boolean },
  ): Promise<WriteOutcome>;
  /**
   * The PATCH, then one read of `passwordProfile`: `confirmed` is whether Graph shows the flag set
   * (null when the read fails or shows no passwordProfile). Graph has answered this PATCH with 204
   * without applying it (docs/graph-facts.md#writes-and-permissions, "Forcing a password change").
   * `read` is that read's own outcome (status, request-ids, error), for the audit trail.
   */
  forceResetPassword(user: string): Promise<WriteOutcome<ForceChangeConfirmation>>;
  /**
   * One `$batch` of lookups (the signed-in user's id, the target's id when given as a UPN, its
   * password method), a refusal when the target is the signed-in user, then resetPassword
   * (202 + Location) and the operation followed to its end (bounded).
   */
  resetPasswordOnPremises(user: string, password: string): Promise<WriteOutcome<PasswordResetResult> & { requestIds: string[] }>;
  createUser(input: CreateUserRequest): Promise<WriteOutcome<GraphUser>>;
  updateUser(user: string, changes: Record<string, unknown>): Promise<WriteOutcome>;
  deleteUser(user: string): Promise<WriteOutcome>;
  /** The object id of `idOrUpn`: no request for a GUID, one `$select=id` GET (remembered for the request) for a UPN. */
  resolveUserId(idOrUpn: string, argument: string): Promise<UserIdResolution>;
  /** `managerId` must be an object id (Graph documents `@odata.id` as `.../users/{id}`): resolve UPNs first. */
  assignManager(user: string, managerId: string): Promise<WriteOutcome>;
  removeManager(user: string): Promise<WriteOutcome>;
  deleteAuthMethod(user: string, kind: DeletableAuthMethodKind, methodId: string): Promise<WriteOutcome>;
  createTemporaryAccessPass(user: string, input: TemporaryAccessPassRequest): Promise<WriteOutcome<CreatedTemporaryAccessPass>>;
  /** Every TAP of the user, with the pass itself stripped (Graph never returns it after creation anyway). */
  listTemporaryAccessPasses(user: string): Promise<WriteOutcome<GraphDirectoryObject[]>>;
}

function requestIdOf(error: GatewayError): string | undefined {
  const id = error.extensions.requestId;
  return typeof id === 'string' ? id : undefined;
}

/** The same error with more public extensions (GraphQLErrors are immutable). */
function withExtensions(error: GatewayError, extra: GatewayErrorExtensions): GatewayError {
  const { code: _code, ...extensions } = error.extensions;
  return new GatewayError(error.code, error.message, { ...extensions, ...extra }, { cause: error.originalError ?? undefined });
}

/**
 * The error a caller gets for a write that was sent and never conclusively answered: it keeps
 * the cause's code (UPSTREAM_UNAVAILABLE for a timeout) and says plainly that the change may have
 * been applied, that the gateway did not repeat it, and how to trace it. Only a write that is safe
 * to repeat carries a retry hint: repeating any other must wait until the caller has looked.
 */
export function unknownOutcomeError(cause: GatewayError, input: { clientRequestId: string | undefined; effect: RequestEffect }): GatewayError {
  const { code: _code, retryAfterSeconds, ...extensions } = cause.extensions;
  const repeatable = input.effect === 'idempotent-write';
  const trace = input.clientRequestId ? ` Its client-request-id is ${input.clientRequestId}.` : '';
  const advice = repeatable ? 'Repeating this change is safe.' : 'Check the current state before trying again: repeating it could apply it twice.';
  return new GatewayError(
    cause.code,
    `${cause.message} The outcome is unknown: Microsoft Graph may have applied the change, and the gateway did not repeat it. ${advice}${trace}`,
    {
      ...extensions,
      outcome: 'UNKNOWN',
      ...(input.clientRequestId ? { clientRequestId: input.clientRequestId } : {}),
      ...(repeatable ? { retryAfterSeconds: typeof retryAfterSeconds === 'number' ? retryAfterSeconds : DEFAULT_RETRY_HINT_SECONDS } : {}),
    },
  );
}

/**
 * A Graph result as a write outcome. Only writes can end UNKNOWN: a read that failed did nothing.
 * Failed writes say so in their error (`outcome: FAILED`), so a caller never has to guess.
 */
function outcomeOf<T>(result: GraphResult<unknown>, value: (body: unknown) => T, req: GraphRequest): WriteOutcome<T> {
  const clientRequestId = result.clientRequestId;
  if (result.ok)
    return { outcome: 'SUCCEEDED', succeeded: true, requestId: result.requestId, clientRequestId, status: result.status, value: value(result.body) };
  const effect = effectOf(req);
  const requestId = result.requestId;
  if (effect !== 'read' && result.outcome === 'unknown') {
    return {
      outcome: 'UNKNOWN',
      succeeded: false,
      requestId,
      clientRequestId,
      status: result.status,
      error: unknownOutcomeError(result.error, { clientRequestId, effect }),
    };
  }
  const error = effect === 'read' ? result.error : withExtensions(result.error, { outcome: 'FAILED', ...(clientRequestId ? { clientRequestId } : {}) });
  return { outcome: 'FAILED', succeeded: false, requestId, clientRequestId, status: result.status, error };
}

const nothing = (): undefined => undefined;

/** A failure decided by the gateway itself (nothing was sent for it). */
function failed(error: GatewayError, requestId?: string): WriteOutcome & { succeeded: false } {
  return { outcome: 'FAILED', succeeded: false, requestId: requestId ?? requestIdOf(error), clientRequestId: undefined, status: undefined, error };
}

/** The step part of an outcome (no value). */
function stepOf(outcome: WriteOutcome<unknown>): StepOutcome {
  if (outcome.succeeded) {
    const { value: _value, ...step } = outcome;
    return step;
  }
  return outcome;
}

export function createGraphWrites(deps: GraphWritesDeps): GraphWrites {
  const { graph } = deps;
  const sleep = deps.sleep ?? abortableSleep;
  const now = deps.now ?? Date.now;
  const resetTimeoutMs = deps.passwordResetTimeoutMs ?? 60_000;
  const pollIntervalMs = deps.pollIntervalMs ?? 1_000;
  // One GraphWrites lives for one GraphQL request: object ids of UPNs and of the signed-in user
  // cannot change within it, so each is looked up at most once.
  const resolvedIds = new Map<string, string>();
  let signedInUserId: string | undefined;
  // The read that rides along with a revocation (externalUserLookup) selects the user's id: a
  // containment named by userPrincipalName then records the user without a second lookup.
  const rememberIdOf = (user: string, lookup: GraphResult | undefined) => {
    if (isGuid(user) || !lookup?.ok) return;
    const id = (lookup.body as { id?: unknown } | null | undefined)?.id;
    if (typeof id === 'string' && isGuid(id)) resolvedIds.set(user.toLowerCase(), id.toLowerCase());
  };

  const patchUser = (user: string, body: Record<string, unknown>, effect: RequestEffect): GraphRequest => ({
    method: 'PATCH',
    path: graphPaths.user(user),
    body,
    effect,
  });

  const revokeRequest = (user: string): GraphRequest => ({
    method: 'POST',
    path: graphPaths.userSub(user, 'revokeSignInSessions'),
    // The action takes no parameters; the empty object keeps the documented write shape (body +
    // Content-Type), which a `$batch` item must have (docs/graph-facts.md#json-batching).
    body: {},
    // Revoking again moves signInSessionsValidFromDateTime a little later: nothing a caller could notice.
    effect: 'idempotent-write',
  });

  async function send(req: GraphRequest): Promise<WriteOutcome> {
    return outcomeOf(await graph.request(req), nothing, req);
  }

  async function pollOperation(
    location: GraphPath,
    requestIds: string[],
    operationId: string | undefined,
    firstWaitSeconds: number | undefined,
  ): Promise<PasswordResetResult> {
    const deadline = now() + resetTimeoutMs;
    let wait = firstWaitSeconds !== undefined ? firstWaitSeconds * 1000 : pollIntervalMs;
    let polls = 0;
    let status: PasswordResetStatus;
    let statusDetail: string | undefined;
    for (;;) {
      // Never sleep past the deadline: a Retry-After longer than what is left ends the wait.
      if (now() + wait > deadline) return { status: 'TIMED_OUT', operationId, statusDetail, requestIds, polls };
      try {
        await sleep(wait, deps.signal);
      } catch {
        return { status: 'TIMED_OUT', operationId, statusDetail, requestIds, polls };
      }
      polls += 1;
      const result = await graph.request<Record<string, unknown>>({ method: 'GET', path: location });
      if (!result.ok) {
        if (result.requestId) requestIds.push(result.requestId);
        throw result.error;
      }
      if (result.requestId) requestIds.push(result.requestId);
      const body = result.body ?? {};
      status = operationStatus(body.status);
      statusDetail = typeof body.statusDetail === 'string' ? safeGraphMessage(body.statusDetail) : undefined;
      if (status === 'SUCCEEDED' || status === 'FAILED') return { status, operationId, statusDetail, requestIds, polls };
      const retryAfter = parseRetryAfter(result.headers['retry-after'], now());
      wait = retryAfter !== undefined ? retryAfter * 1000 : pollIntervalMs;
    }
  }

  function operationLink(location: string | undefined): GraphPath {
    if (!location) throw new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Microsoft Graph accepted the password reset but gave no operation link to follow.');
    const endpoint = deps.graphEndpoint.replace(/\/+$/, '');
    // Graph sends an absolute link; accept a relative one too, resolved against the configured endpoint only.
    const absolute = /^https?:\/\//i.test(location)
      ? location
      : location.startsWith('/v1.0/')
        ? `${endpoint}${location}`
        : `${endpoint}/v1.0${location.startsWith('/') ? '' : '/'}${location}`;
    try {
      return validateContinuationLink(absolute, deps.graphEndpoint, OPERATION_SHAPE);
    } catch {
      throw new GatewayError(
        ErrorCode.UPSTREAM_ERROR,
        'Microsoft Graph gave an operation link the gateway will not follow (not a password reset operation on the configured endpoint).',
      );
    }
  }

  /** The object id of a `$select=id` answer, or an UPSTREAM_ERROR when Graph left it out or sent something else. */
  function idOf(body: unknown, requestId: string | undefined): string {
    const id = (body as { id?: unknown } | null | undefined)?.id;
    // Only a GUID goes on into a path or an `@odata.id`.
    if (typeof id === 'string' && isGuid(id)) return id.toLowerCase();
    throw new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Microsoft Graph answered a lookup without a valid object id.', requestId ? { requestId } : {});
  }

  async function resetPasswordOnPremises(user: string, password: string): Promise<WriteOutcome<PasswordResetResult> & { requestIds: string[] }> {
    const requestIds: string[] = [];
    const note = (id: string | undefined) => {
      if (id && !requestIds.includes(id)) requestIds.push(id);
    };
    const fail = (error: GatewayError, status?: number) => ({ ...failed(error), ...(status !== undefined ? { status } : {}), requestIds });

    // Graph refuses resetPassword on the caller's own account (docs/graph-facts.md#writes-and-permissions).
    // Who the signed-in user is costs no extra round trip: `GET /me?$select=id` rides in the same
    // `$batch` as the lookups the reset needs anyway (the target's id when given as a UPN, and its
    // password method), and is remembered for the rest of the request.
    const targetIsId = isGuid(user);
    const lookups: GraphRequest[] = [];
    const meAt = signedInUserId === undefined ? lookups.push({ method: 'GET', path: graphPaths.me(), query: { $select: 'id' } }) - 1 : -1;
    const targetAt = targetIsId ? -1 : lookups.push({ method: 'GET', path: graphPaths.user(user), query: { $select: 'id' } }) - 1;
    const methodsAt = lookups.push({ method: 'GET', path: graphPaths.userAuthMethods(user, 'password') }) - 1;
    const results = await graph.batch(lookups);
    for (const r of results) note(r.requestId);

    let targetId: string;
    try {
      if (meAt >= 0) {
        const me = results[meAt]!;
        if (!me.ok) return fail(me.error, me.status);
        signedInUserId = idOf(me.body, me.requestId);
      }
      if (targetAt >= 0) {
        const target = results[targetAt]!;
        if (!target.ok) return fail(target.error, target.status);
        targetId = idOf(target.body, target.requestId);
      } else {
        targetId = user.toLowerCase();
      }
    } catch (error) {
      if (error instanceof GatewayError) return fail(error);
      throw error;
    }
    if (targetId === signedInUserId) {
      return fail(
        new GatewayError(
          ErrorCode.BAD_USER_INPUT,
          "changePasswordOnPremises cannot reset the signed-in user's own password: Microsoft Graph refuses resetPassword on the caller's own account. Sign in as another administrator to reset it.",
          { argument: 'user' },
        ),
      );
    }
    const lookup = results[methodsAt]!;
    if (!lookup.ok) return fail(lookup.error, lookup.status);
    const method = pickPasswordMethod((lookup.body as { value?: GraphDirectoryObject[] } | undefined)?.value);
    if (!method) {
      return fail(
        new GatewayError(
          ErrorCode.NOT_FOUND,
          'The user has no password authentication method to reset.',
          lookup.requestId ? { requestId: lookup.requestId } : {},
        ),
      );
    }
    const resetRequest: GraphRequest = {
      method: 'POST',
      path: graphPaths.userAuthMethod(targetId, 'all', method.id, 'resetPassword'),
      body: { newPassword: password },
      // A repeated reset would start a second operation.
      effect: 'write',
    };
    const answer = await graph.request(resetRequest);
    const reset = outcomeOf(answer, nothing, resetRequest);
    note(reset.requestId);
    if (!reset.succeeded) return { ...reset, requestIds };
    const headers = answer.ok ? answer.headers : {};
    // The page answers 202 with a Location "Required" in its header table, yet its prose says the
    // answer "may also include" one, and a field report shows the call answered without it
    // (docs/graph-facts.md#writes-and-permissions, "Reset password"). A 200 or 204 says the request
    // was carried out (RFC 9110, 15.3), so without a link to follow it is the reset's end; a 202
    // without one stays an accepted reset whose outcome is unknown (below).
    if (!headers.location && reset.status !== 202) {
      return { ...reset, value: { status: 'SUCCEEDED', operationId: undefined, statusDetail: undefined, requestIds, polls: 0 }, requestIds };
    }
    try {
      const link = operationLink(headers.location);
      const operationId = link.path.split('/').filter(Boolean).pop();
      const result = await pollOperation(link, requestIds, operationId, parseRetryAfter(headers['retry-after'], now()));
      return { ...reset, value: result, requestIds };
    } catch (error) {
      // Graph accepted the reset: it has started, and only following it failed. Whether the
      // password changed is not known, and starting a second reset is not the answer.
      const cause = error instanceof GatewayError ? error : new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Following the password reset operation failed.');
      return {
        outcome: 'UNKNOWN',
        succeeded: false,
        requestId: reset.requestId,
        clientRequestId: reset.clientRequestId,
        status: reset.status,
        error: unknownOutcomeError(cause, { clientRequestId: reset.clientRequestId, effect: 'write' }),
        requestIds,
      };
    }
  }

  return {
    disableAccount: (user) => send(patchUser(user, { accountEnabled: false }, 'idempotent-write')),
    enableAccount: (user) => send(patchUser(user, { accountEnabled: true }, 'idempotent-write')),
    async revokeSignInSessions(user) {
      const revoke = revokeRequest(user);
      const [revoked, lookup] = await graph.batch([revoke, externalUserLookup(user)]);
      rememberIdOf(user, lookup);
      if (!revoked) return failed(new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Microsoft Graph gave no answer for the revocation.'));
      return outcomeOf(revoked, () => sessionsReach(lookup), revoke);
    },

    async terminateSession(user, options) {
      const plan: Array<{ step: TerminateStep; req: GraphRequest }> = [{ step: 'REVOKE_SESSIONS', req: revokeRequest(user) }];
      if (options.disableAccount) plan.push({ step: 'DISABLE_ACCOUNT', req: patchUser(user, { accountEnabled: false }, 'idempotent-write') });
      // Independent items, no dependsOn: a failed revoke must not keep the account enabled. The
      // lookup of who the user is rides along (src/graph/external-users.ts).
      const results = await graph.batch([...plan.map((p) => p.req), externalUserLookup(user)]);
      const lookup = results[plan.length];
      rememberIdOf(user, lookup);
      return {
        steps: plan.map((p, i) => {
          const result = results[i];
          if (!result) return { step: p.step, ...failed(new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Microsoft Graph gave no answer for this step.')) };
          const outcome = stepOf(outcomeOf(result, nothing, p.req));
          const caveat = p.step === 'REVOKE_SESSIONS' && outcome.succeeded ? sessionsReach(lookup).caveat : undefined;
          return { step: p.step, ...outcome, ...(caveat ? { caveat } : {}) };
        }),
      };
    },

    setPassword: (user, input) =>
      send(
        patchUser(
          user,
          {
            passwordProfile: {
              password: input.password,
              forceChangePasswordNextSignIn: input.forceChangePasswordNextSignIn,
              forceChangePasswordNextSignInWithMfa: input.forceChangePasswordNextSignInWithMfa,
            },
          },
          // Setting the same password twice leaves the same state.
          'idempotent-write',
        ),
      ),

    async forceResetPassword(user) {
      const written = await send(patchUser(user, { passwordProfile: { forceChangePasswordNextSignIn: true } }, 'idempotent-write'));
      if (!written.succeeded) return written;
      // A 204 is not proof: Graph has acknowledged a passwordProfile without a password and changed
      // nothing (microsoft-graph-docs#4267), later reports have it work. Reading the flag back tells the
      // caller which happened; a failed read (the app may write passwordProfile without reading it)
      // leaves it unknown rather than failing a write that Graph accepted.
      const readRequest: GraphRequest = { method: 'GET', path: graphPaths.user(user), query: { $select: 'id,passwordProfile' } };
      const read = await graph.request<{ passwordProfile?: { forceChangePasswordNextSignIn?: unknown } | null }>(readRequest);
      const flag = read.ok ? read.body?.passwordProfile?.forceChangePasswordNextSignIn : undefined;
      const { value: _body, ...readOutcome } = outcomeOf(read, (body) => body, readRequest) as WriteOutcome<unknown> & { value?: unknown };
      return { ...written, value: { confirmed: typeof flag === 'boolean' ? flag : null, read: readOutcome } };
    },

    resetPasswordOnPremises,

    async createUser(input) {
      const body: Record<string, unknown> = {
        ...input.properties,
        accountEnabled: input.accountEnabled,
        displayName: input.displayName,
        mailNickname: input.mailNickname,
        userPrincipalName: input.userPrincipalName,
        passwordProfile: { password: input.password, forceChangePasswordNextSignIn: input.forceChangePasswordNextSignIn },
      };
      // A second POST /users would create the user twice or fail with a conflict.
      const req: GraphRequest = { method: 'POST', path: graphPaths.users(), body, effect: 'write' };
      return outcomeOf(await graph.request(req), (b) => b as GraphUser, req);
    },

    updateUser: (user, changes) => send(patchUser(user, changes, 'idempotent-write')),
    deleteUser: (user) => send({ method: 'DELETE', path: graphPaths.user(user), effect: 'idempotent-write' }),

    async resolveUserId(idOrUpn, argument) {
      if (isGuid(idOrUpn)) return { found: true, id: idOrUpn.toLowerCase(), requestId: undefined };
      const key = idOrUpn.toLowerCase();
      const known = resolvedIds.get(key);
      if (known) return { found: true, id: known, requestId: undefined };
      // The cheapest lookup Graph has: one user, one property (docs/graph-facts.md#throttling: `$select` lowers the cost).
      const result = await graph.request<{ id?: unknown }>({ method: 'GET', path: graphPaths.user(idOrUpn), query: { $select: 'id' } });
      if (!result.ok) {
        const requestId = result.requestId;
        const error =
          result.status === 404
            ? new GatewayError(ErrorCode.NOT_FOUND, `No user has the ${argument} ${JSON.stringify(idOrUpn)}.`, {
                argument,
                ...(requestId ? { requestId } : {}),
              })
            : result.error;
        return { found: false, error, requestId, status: result.status, clientRequestId: result.clientRequestId };
      }
      try {
        const id = idOf(result.body, result.requestId);
        resolvedIds.set(key, id);
        return { found: true, id, requestId: result.requestId, status: result.status, clientRequestId: result.clientRequestId };
      } catch (error) {
        if (error instanceof GatewayError)
          return { found: false, error, requestId: result.requestId, status: result.status, clientRequestId: result.clientRequestId };
        throw error;
      }
    },

    assignManager(user, managerId) {
      // Graph documents the reference as `https://graph.microsoft.com/v1.0/users/{id}` on the
      // cloud's own Graph host (docs/graph-facts.md#manager-and-bulk-lookup): an object id, never a UPN.
      if (!isGuid(managerId)) throw new TypeError("assignManager needs the manager's object id; resolve a userPrincipalName first.");
      const endpoint = deps.graphEndpoint.replace(/\/+$/, '');
      return send({
        method: 'PUT',
        path: graphPaths.userSub(user, 'manager/$ref'),
        body: { '@odata.id': `${endpoint}/v1.0/users/${managerId.toLowerCase()}` },
        effect: 'idempotent-write',
      });
    },
    async removeManager(user) {
      const removed = await send({ method: 'DELETE', path: graphPaths.userSub(user, 'manager/$ref'), effect: 'idempotent-write' });
      // user-delete-manager documents only its 204; a 404 may be the user or the manager reference that is
      // missing, and Graph's code does not say which (docs/graph-facts.md#manager-and-bulk-lookup).
      if (removed.succeeded || removed.outcome !== 'FAILED' || removed.error.code !== ErrorCode.NOT_FOUND) return removed;
      const { code: _code, ...extensions } = removed.error.extensions;
      const error = new GatewayError(ErrorCode.NOT_FOUND, 'Microsoft Graph found nothing to remove: the user does not exist or has no manager.', extensions);
      return { ...removed, error };
    },

    deleteAuthMethod: (user, kind, methodId) =>
      send({
        method: 'DELETE',
        // Graph's v1.0 page deletes an external method at `.../{id}/$ref`, every other type at `.../{id}`.
        path: graphPaths.userAuthMethod(user, kind, methodId, kind === 'external' ? '$ref' : undefined),
        effect: 'idempotent-write',
      }),

    async createTemporaryAccessPass(user, input) {
      const body: Record<string, unknown> = {};
      if (input.lifetimeInMinutes !== undefined) body.lifetimeInMinutes = input.lifetimeInMinutes;
      if (input.isUsableOnce !== undefined) body.isUsableOnce = input.isUsableOnce;
      if (input.startDateTime) body.startDateTime = input.startDateTime;
      // Each POST mints a new pass.
      const req: GraphRequest = { method: 'POST', path: graphPaths.userAuthMethods(user, 'temporaryAccessPass'), body, effect: 'write' };
      return outcomeOf(await graph.request(req), (b) => b as CreatedTemporaryAccessPass, req);
    },

    async listTemporaryAccessPasses(user) {
      const req: GraphRequest = { method: 'GET', path: graphPaths.userAuthMethods(user, 'temporaryAccessPass') };
      return outcomeOf(
        await graph.request<{ value?: GraphDirectoryObject[] }>(req),
        (b) => {
          const items = Array.isArray((b as { value?: unknown } | undefined)?.value) ? (b as { value: GraphDirectoryObject[] }).value : [];
          return items.map(({ temporaryAccessPass: _pass, ...rest }) => rest as GraphDirectoryObject);
        },
        req,
      );
    },
  };
}

/** The password method by type or well-known id; never blindly the first item. */
export function pickPasswordMethod(methods: GraphDirectoryObject[] | undefined): GraphDirectoryObject | undefined {
  if (!Array.isArray(methods)) return undefined;
  return (
    methods.find((m) => m['@odata.type'] === PASSWORD_METHOD_TYPE) ??
    methods.find((m) => m.id === PASSWORD_METHOD_ID) ??
    // A passwordMethods collection holds only password methods; one item with no type is still ours.
    (methods.length === 1 && methods[0]!['@odata.type'] === undefined ? methods[0] : undefined)
  );
}

function operationStatus(value: unknown): PasswordResetStatus {
  switch (value) {
    case 'succeeded':
      return 'SUCCEEDED';
    case 'failed':
    case 'canceled':
    case 'cancelled':
      return 'FAILED';
    case 'running':
      return 'RUNNING';
    default:
      return 'NOT_STARTED';
  }
}
