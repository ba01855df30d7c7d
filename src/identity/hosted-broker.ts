import type { Config } from '../config-types.js';
import { ErrorCode, GatewayError, isGatewayError } from '../errors.js';
import type { GraphIdentity } from './types.js';
import { instrumentAcquisition } from './acquisition.js';
import { encryptBrokerToken } from './broker-crypto.js';
import { brokerTokenNamesAnotherTenant } from './broker-token-tenant.js';
import { MAX_ACCESS_TOKEN_LIFETIME_SECONDS } from './access-token-lifetime.js';
import type { GraphIdentityDeps } from './deps.js';
import { MAX_UPSTREAM_TEXT } from '../http/upstream-text.js';
import { describeNetworkFailure } from './msal-network.js';
import { scrubbedUpstreamText } from '../http/upstream-text.js';
import { TokenSlot, slotTokenSource, tokenProbe, type AcquiredToken } from './token-slot.js';

export const BROKER_APP_NAME = 'ms-graph-user';
const DEFAULT_EXPIRES_IN = 3595;
/**
 * The range a broker's `expires_in` is held to. Below it (zero, negative) every request would fetch
 * a new token, since the one held is always "expired"; above it (a huge number, `Infinity` from
 * "Infinity" or 1e400) the token would be kept until Graph refuses it with a 401. An Entra access
 * token lives 60-90 minutes by default and at most a day under a token lifetime policy
 * (docs/graph-facts.md#revoked-sessions-and-access-tokens): a token kept a day is renewed early at
 * worst, and one the broker says lives less than a minute is used that minute (Graph's 401 drops it).
 */
export const BROKER_EXPIRES_IN_RANGE = { minSeconds: 60, maxSeconds: MAX_ACCESS_TOKEN_LIFETIME_SECONDS } as const;

/** The broker's `expires_in`, within BROKER_EXPIRES_IN_RANGE; `clamped` when it was not. */
export function brokerExpiresIn(value: unknown): { seconds: number; clamped: boolean } {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (Number.isNaN(n)) return { seconds: DEFAULT_EXPIRES_IN, clamped: false };
  const seconds = Math.min(Math.max(n, BROKER_EXPIRES_IN_RANGE.minSeconds), BROKER_EXPIRES_IN_RANGE.maxSeconds);
  return { seconds, clamped: seconds !== n };
}
const MAX_BACKOFF_EXPONENT = 6; // 2**6 = 64 s, as the original
/**
 * The broker's `function-execution-id` (an Azure Functions invocation id, a GUID), logged beside its
 * answers for the broker's operator. The broker's text like its body: kept only when it reads as
 * an id (letters, digits and hyphens, 64 at most: no JWT, no token of the broker's alphabet) and
 * is none of the secrets (BROKER_TOKEN is a GUID too, docs/security.md#the-broker-token-is-a-secret).
 */
const EXECUTION_ID = /^[A-Za-z0-9-]{1,64}$/;

function executionIdOf(header: string | null, secrets: readonly string[]): string | undefined {
  if (header === null || !EXECUTION_ID.test(header)) return undefined;
  return secrets.some((secret) => secret.length >= 4 && header.toLowerCase().includes(secret.toLowerCase())) ? undefined : header;
}

/**
 * What an access token can be and still go into `Authorization: Bearer <token>`: RFC 6750's
 * b64token (RFC 7235's token68), which is all an Entra token is, JWT or not. A value with CR, LF,
 * a space or any other byte outside it cannot be sent in a header at all (undici refuses it, so
 * every Graph call would fail locally until the token's `expires_in` ran out), and one the broker
 * answered so is refused where it arrives: never cached, and the next acquisition asks again.
 */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** How the broker says the key does not fit (then a refresh-token fallback cannot help). */
const KEY_MISMATCH = /decryption failed|could not be decrypted/i;

/**
 * Graph tokens from the hosted OAuth broker (the "ID, token and key" of its consent flow). Unlike the original,
 * the refresh token the broker returns is kept (encrypted, in the token store) and sent back on
 * the next request, each rotation persisted under the refresh lock; if the broker no longer
 * accepts it, the registration token is used instead. After a failure, requests wait 2**n s
 * (n ≤ 6) before trying again, and fail fast with a clear message meanwhile.
 */
export function createHostedBrokerIdentity(config: Config, deps: GraphIdentityDeps): GraphIdentity {
  const hosted = config.hosted!;
  const now = deps.now ?? Date.now;
  const secrets = [hosted.token.reveal(), hosted.key.reveal()];
  const log = deps.logger.child({ component: 'identity', flow: 'hosted-broker' });
  let failures = 0;
  let delayedUntil = 0;
  let saidClamped = false;

  const post = async (content: string): Promise<{ status: number; body: Record<string, unknown>; executionId?: string }> => {
    const encrypted = encryptBrokerToken(hosted.key.reveal(), content, Math.floor(now() / 1000));
    let response;
    let text: string;
    try {
      response = await deps.upstream.fetch(hosted.brokerUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ app_name: BROKER_APP_NAME, registration_id: hosted.registrationId, encrypted_token: encrypted, scope: null, resource: '' }),
        signal: AbortSignal.timeout(config.limits.upstreamTimeoutMs),
      });
      // Inside the try: the body can fail after the status arrived (it drips past the timeout, or it
      // is larger than MAX_UPSTREAM_RESPONSE_BYTES), and that is the broker not answering too.
      text = await response.text();
    } catch (error) {
      throw new GatewayError(
        ErrorCode.UPSTREAM_UNAVAILABLE,
        `Graph token acquisition (hosted-broker) could not reach the broker at ${new URL(hosted.brokerUrl).host} (${describeNetworkFailure(error)})`,
      );
    }
    let body: Record<string, unknown>;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = {};
    }
    const executionId = executionIdOf(response.headers.get('function-execution-id'), secrets);
    return { status: response.status, body, ...(executionId ? { executionId } : {}) };
  };

  const brokerError = (status: number, body: Record<string, unknown>): GatewayError => {
    const serverMessage = ['detail', 'title', 'error_description', 'error', 'message'].map((k) => body[k]).find((v): v is string => typeof v === 'string');
    // The broker's text must not forge log lines or reorder what the operator reads.
    const safe = serverMessage ? scrubbedUpstreamText(serverMessage, secrets, MAX_UPSTREAM_TEXT).replace(/\.+$/, '') || 'no message' : 'no message';
    const hint =
      status === 401 && KEY_MISMATCH.test(safe)
        ? ' BROKER_KEY does not match this registration: copy the "Key" from the broker consent flow again.'
        : status === 404
          ? ' BROKER_ID is unknown to the broker: run the consent flow again.'
          : '';
    // The broker's own text goes to the operator (the log, and the doctor through `cause`), never
    // to callers: it is another service's body (src/errors.ts: a GatewayError's message never
    // holds one), and it quoted BROKER_ID to every caller. The caller learns the status and the fix.
    log.warn({ status, brokerMessage: safe }, 'the hosted broker refused the token request');
    return new GatewayError(
      status >= 500 ? ErrorCode.UPSTREAM_UNAVAILABLE : ErrorCode.UPSTREAM_ERROR,
      `Error in Microsoft authorization (hosted-broker). Status: ${status}.${hint || " The broker's message is in the gateway's log."}`,
      {},
      { cause: new Error(safe) },
    );
  };

  const requestToken = async (): Promise<AcquiredToken> =>
    deps.store.withRefreshLock(async () => {
      const kept = await deps.store.get('broker-refresh-token');
      let result = await post(kept ?? hosted.token.reveal());
      if (kept && result.status === 401 && !KEY_MISMATCH.test(JSON.stringify(result.body))) {
        // The kept refresh token was refused (spent or expired): the registration token still works.
        log.warn('the broker refused the kept refresh token; falling back to the registration token');
        await deps.store.delete('broker-refresh-token');
        result = await post(hosted.token.reveal());
      }
      log.debug({ status: result.status, functionExecutionId: result.executionId }, 'broker answered');
      if (result.status !== 200 || typeof result.body.access_token !== 'string') throw brokerError(result.status, result.body);
      // An answer refused here is not kept at all, nor its refresh token; nothing of the value is logged.
      const refuseAnswer = (logged: string, told: string): GatewayError => {
        log.warn({ functionExecutionId: result.executionId }, `the hosted broker answered with ${logged}; refused, nothing sent to Graph`);
        return new GatewayError(
          ErrorCode.UPSTREAM_ERROR,
          `Error in Microsoft authorization (hosted-broker): the broker answered with ${told}; it was not used. The operator's log has the details.`,
        );
      };
      if (!BEARER_TOKEN.test(result.body.access_token)) {
        // It may be a Graph token with one stray byte.
        throw refuseAnswer(
          'an access token that cannot be sent as a bearer token (a character outside RFC 6750 b64token)',
          'an access token that is not a usable bearer token',
        );
      }
      if (brokerTokenNamesAnotherTenant(result.body.access_token, hosted.token.reveal())) {
        // Both belong to another tenant. Neither tenant id is logged (BROKER_TOKEN is a secret; the
        // other is not ours to record).
        throw refuseAnswer("a Graph token of another tenant than BROKER_TOKEN's", 'a Graph token of another tenant than the one this gateway serves');
      }
      if (typeof result.body.refresh_token === 'string' && result.body.refresh_token.length > 0) {
        try {
          await deps.store.set('broker-refresh-token', result.body.refresh_token);
        } catch (error) {
          // The access token is good; a refresh token not kept only means the next acquisition
          // (here or on another replica) starts from the kept one or the registration token (above).
          log.warn({ err: (error as Error | undefined)?.message }, 'broker refresh token not persisted: the token store refused the write');
        }
      }
      const expiresIn = brokerExpiresIn(result.body.expires_in);
      if (expiresIn.clamped && !saidClamped) {
        // Once per process: a broker that always answers so would otherwise write a line per token.
        saidClamped = true;
        log.warn(
          { expiresIn: String(result.body.expires_in).slice(0, 32), usedSeconds: expiresIn.seconds },
          `the broker's expires_in is outside ${BROKER_EXPIRES_IN_RANGE.minSeconds}-${BROKER_EXPIRES_IN_RANGE.maxSeconds} s: the token is kept for the nearest bound`,
        );
      }
      return { accessToken: result.body.access_token, expiresAt: now() + expiresIn.seconds * 1000 };
    });

  const acquire = async (): Promise<AcquiredToken> => {
    if (now() < delayedUntil) {
      throw new GatewayError(
        ErrorCode.UPSTREAM_UNAVAILABLE,
        `Graph token acquisition (hosted-broker) failed recently; the request will be delayed until ${new Date(delayedUntil).toISOString()}.`,
        { retryAfterSeconds: Math.ceil((delayedUntil - now()) / 1000) },
      );
    }
    try {
      const token = await instrumentAcquisition('hosted-broker', { ...deps, secrets }, requestToken);
      failures = 0;
      delayedUntil = 0;
      return token;
    } catch (error) {
      delayedUntil = now() + 2 ** Math.min(failures, MAX_BACKOFF_EXPONENT) * 1000;
      failures += 1;
      throw isGatewayError(error) ? error : new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Graph token acquisition (hosted-broker) failed.');
    }
  };

  const slot = new TokenSlot(() => acquire(), now);
  const source = slotTokenSource(`hosted:${hosted.registrationId}`, slot);
  return {
    kind: 'hosted-broker',
    delegated: false,
    tokenSourceFor: () => source,
    probe: tokenProbe(source),
  };
}
