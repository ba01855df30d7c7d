import { ErrorCode, GatewayError } from '../errors.js';
import type { AuthMethodKind, GraphDirectoryObject, GraphUser } from './api.js';
import { safeGraphMessage } from './errors.js';
import { validateContinuationLink } from './paging.js';
import { graphPaths, type GraphPath } from './paths.js';
import { abortableSleep, parseRetryAfter } from './retry.js';
import type { GraphRequest, GraphResult } from './types.js';

/**
 * Domain write methods over the Graph client's primitives (`request`, `batch`). Each method names
 * what it does to a user; URLs, bodies and idempotence live here so resolvers never see them.
 * Failures come back as values (`WriteOutcome`) carrying Graph's request-id, so a caller can
 * report every step of a multi-step write, and audit it, without try/catch archaeology.
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
  | { succeeded: true; requestId: string | undefined; status: number }
  | { succeeded: false; requestId: string | undefined; status: number | undefined; error: GatewayError };

export type WriteOutcome<T = undefined> = (StepOutcome & { succeeded: false }) | (StepOutcome & { succeeded: true; value: T });

export type TerminateStep = 'REVOKE_SESSIONS' | 'DISABLE_ACCOUNT';

export interface TerminateSessionResult {
  steps: Array<{ step: TerminateStep } & StepOutcome>;
}

/** Status of a password reset long-running operation (Graph's `longRunningOperationStatus`). */
export type PasswordResetStatus = 'NOT_STARTED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

export interface PasswordResetResult {
  status: PasswordResetStatus;
  /** Graph's operation id (last segment of the Location link). */
  operationId: string | undefined;
  /** Graph's `statusDetail` when it gave one (never contains the password). */
  statusDetail: string | undefined;
  /** Every Graph request-id of the lookup, the reset and each poll. */
  requestIds: string[];
  /** How many times the operation was polled. */
  polls: number;
}

export interface TemporaryAccessPassRequest {
  lifetimeInMinutes: number;
  isUsableOnce: boolean;
  /** ISO 8601; omitted means now. */
  startDateTime?: string;
}

/** A created TAP: the one and only time Graph hands out `temporaryAccessPass`. */
export interface CreatedTemporaryAccessPass extends GraphDirectoryObject {
  temporaryAccessPass?: string;
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
  revokeSignInSessions(user: string): Promise<WriteOutcome>;
  /** revokeSignInSessions (+ accountEnabled:false) in ONE `$batch` round trip, each step reported. */
  terminateSession(user: string, options: { disableAccount: boolean }): Promise<TerminateSessionResult>;
  setPassword(
    user: string,
    input: { password: string; forceChangePasswordNextSignIn: boolean; forceChangePasswordNextSignInWithMfa: boolean },
  ): Promise<WriteOutcome>;
  forceResetPassword(user: string): Promise<WriteOutcome>;
  /** passwordMethods lookup, resetPassword (202 + Location), then the operation followed to its end (bounded). */
  resetPasswordOnPremises(
    user: string,
    password: string,
  ): Promise<WriteOutcome<PasswordResetResult> | (WriteOutcome & { succeeded: false; requestIds: string[] })>;
  createUser(input: CreateUserRequest): Promise<WriteOutcome<GraphUser>>;
  updateUser(user: string, changes: Record<string, unknown>): Promise<WriteOutcome>;
  deleteUser(user: string): Promise<WriteOutcome>;
  assignManager(user: string, managerId: string): Promise<WriteOutcome>;
  removeManager(user: string): Promise<WriteOutcome>;
  deleteAuthMethod(user: string, kind: Exclude<AuthMethodKind, 'all' | 'password'>, methodId: string): Promise<WriteOutcome>;
  createTemporaryAccessPass(user: string, input: TemporaryAccessPassRequest): Promise<WriteOutcome<CreatedTemporaryAccessPass>>;
  /** Every TAP of the user, with the pass itself stripped (Graph never returns it after creation anyway). */
  listTemporaryAccessPasses(user: string): Promise<WriteOutcome<GraphDirectoryObject[]>>;
}

function outcomeOf<T>(result: GraphResult<unknown>, value: (body: unknown) => T): WriteOutcome<T> {
  if (!result.ok) return { succeeded: false, requestId: requestIdOf(result.error), status: result.status, error: result.error };
  return { succeeded: true, requestId: result.requestId, status: result.status, value: value(result.body) };
}

const nothing = (): undefined => undefined;

function requestIdOf(error: GatewayError): string | undefined {
  const id = error.extensions.requestId;
  return typeof id === 'string' ? id : undefined;
}

function failed(error: GatewayError, requestId?: string): WriteOutcome & { succeeded: false } {
  return { succeeded: false, requestId: requestId ?? requestIdOf(error), status: undefined, error };
}

export function createGraphWrites(deps: GraphWritesDeps): GraphWrites {
  const { graph } = deps;
  const sleep = deps.sleep ?? abortableSleep;
  const now = deps.now ?? Date.now;
  const resetTimeoutMs = deps.passwordResetTimeoutMs ?? 60_000;
  const pollIntervalMs = deps.pollIntervalMs ?? 1_000;

  const patchUser = (user: string, body: Record<string, unknown>, idempotent: boolean): GraphRequest => ({
    method: 'PATCH',
    path: graphPaths.user(user),
    body,
    idempotent,
  });

  async function send(req: GraphRequest): Promise<WriteOutcome> {
    return outcomeOf(await graph.request(req), nothing);
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
        const id = requestIdOf(result.error);
        if (id) requestIds.push(id);
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

  return {
    disableAccount: (user) => send(patchUser(user, { accountEnabled: false }, true)),
    enableAccount: (user) => send(patchUser(user, { accountEnabled: true }, true)),
    revokeSignInSessions: (user) => send({ method: 'POST', path: graphPaths.userSub(user, 'revokeSignInSessions'), idempotent: true }),

    async terminateSession(user, options) {
      const plan: Array<{ step: TerminateStep; req: GraphRequest }> = [
        { step: 'REVOKE_SESSIONS', req: { method: 'POST', path: graphPaths.userSub(user, 'revokeSignInSessions'), idempotent: true } },
      ];
      if (options.disableAccount) plan.push({ step: 'DISABLE_ACCOUNT', req: patchUser(user, { accountEnabled: false }, true) });
      // Independent items, no dependsOn: a failed revoke must not keep the account enabled.
      const results = plan.length === 1 ? [await graph.request(plan[0]!.req)] : await graph.batch(plan.map((p) => p.req));
      return {
        steps: plan.map((p, i) => {
          const result = results[i];
          if (!result) return { step: p.step, ...failed(new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Microsoft Graph gave no answer for this step.')) };
          const outcome = outcomeOf(result, nothing);
          return outcome.succeeded
            ? { step: p.step, succeeded: true as const, requestId: outcome.requestId, status: outcome.status }
            : { step: p.step, succeeded: false as const, requestId: outcome.requestId, status: outcome.status, error: outcome.error };
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
          // Setting the same password twice leaves the same state: safe to retry.
          true,
        ),
      ),

    forceResetPassword: (user) => send(patchUser(user, { passwordProfile: { forceChangePasswordNextSignIn: true } }, true)),

    async resetPasswordOnPremises(user, password) {
      const requestIds: string[] = [];
      const lookup = await graph.request<{ value?: GraphDirectoryObject[] }>({ method: 'GET', path: graphPaths.userAuthMethods(user, 'password') });
      if (!lookup.ok) return { ...failed(lookup.error), status: lookup.status, requestIds };
      if (lookup.requestId) requestIds.push(lookup.requestId);
      const method = pickPasswordMethod(lookup.body?.value);
      if (!method) {
        return {
          ...failed(
            new GatewayError(
              ErrorCode.NOT_FOUND,
              'The user has no password authentication method to reset.',
              lookup.requestId ? { requestId: lookup.requestId } : {},
            ),
          ),
          requestIds,
        };
      }
      const reset = await graph.request({
        method: 'POST',
        path: graphPaths.userAuthMethod(user, 'all', method.id, 'resetPassword'),
        body: { newPassword: password },
        // A repeated reset would start a second operation: never retried blindly.
        idempotent: false,
      });
      if (!reset.ok) return { ...failed(reset.error), status: reset.status, requestIds };
      if (reset.requestId) requestIds.push(reset.requestId);
      try {
        const link = operationLink(reset.headers.location);
        const operationId = link.path.split('/').filter(Boolean).pop();
        const result = await pollOperation(link, requestIds, operationId, parseRetryAfter(reset.headers['retry-after'], now()));
        return { succeeded: true, requestId: reset.requestId, status: reset.status, value: result };
      } catch (error) {
        const gatewayError =
          error instanceof GatewayError ? error : new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Following the password reset operation failed.');
        return { ...failed(gatewayError), requestIds };
      }
    },

    async createUser(input) {
      const body: Record<string, unknown> = {
        ...input.properties,
        accountEnabled: input.accountEnabled,
        displayName: input.displayName,
        mailNickname: input.mailNickname,
        userPrincipalName: input.userPrincipalName,
        passwordProfile: { password: input.password, forceChangePasswordNextSignIn: input.forceChangePasswordNextSignIn },
      };
      // A retried POST /users may create the user twice or fail on the second try with a conflict.
      return outcomeOf(await graph.request({ method: 'POST', path: graphPaths.users(), body, idempotent: false }), (b) => b as GraphUser);
    },

    updateUser: (user, changes) => send(patchUser(user, changes, true)),
    deleteUser: (user) => send({ method: 'DELETE', path: graphPaths.user(user), idempotent: true }),

    assignManager(user, managerId) {
      const managerPath = graphPaths.user(managerId);
      const endpoint = deps.graphEndpoint.replace(/\/+$/, '');
      return send({
        method: 'PUT',
        path: graphPaths.userSub(user, 'manager/$ref'),
        body: { '@odata.id': `${endpoint}/v1.0${managerPath.path}` },
        idempotent: true,
      });
    },
    removeManager: (user) => send({ method: 'DELETE', path: graphPaths.userSub(user, 'manager/$ref'), idempotent: true }),

    deleteAuthMethod: (user, kind, methodId) => send({ method: 'DELETE', path: graphPaths.userAuthMethod(user, kind, methodId), idempotent: true }),

    async createTemporaryAccessPass(user, input) {
      const body: Record<string, unknown> = { lifetimeInMinutes: input.lifetimeInMinutes, isUsableOnce: input.isUsableOnce };
      if (input.startDateTime) body.startDateTime = input.startDateTime;
      // Each POST mints a new pass: never retried blindly.
      const result = await graph.request({ method: 'POST', path: graphPaths.userAuthMethods(user, 'temporaryAccessPass'), body, idempotent: false });
      return outcomeOf(result, (b) => b as CreatedTemporaryAccessPass);
    },

    async listTemporaryAccessPasses(user) {
      const result = await graph.request<{ value?: GraphDirectoryObject[] }>({ method: 'GET', path: graphPaths.userAuthMethods(user, 'temporaryAccessPass') });
      return outcomeOf(result, (b) => {
        const items = Array.isArray((b as { value?: unknown } | undefined)?.value) ? (b as { value: GraphDirectoryObject[] }).value : [];
        return items.map(({ temporaryAccessPass: _pass, ...rest }) => rest as GraphDirectoryObject);
      });
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
