import { ErrorCode, GatewayError, isGatewayError } from '../errors.js';
import { scrubbedUpstreamText } from '../http/upstream-text.js';
import { TokenCacheKeyMismatchError } from '../store/token-store.js';

/**
 * AAD errors that mean the stored grant is dead: only a reset and a new sign-in fix them. Not
 * AADSTS7000222: that is the app's client secret past its end date (reference-error-codes,
 * InvalidClientSecretExpiredKeysProvided), fixed by a new secret; the stored refresh token is not
 * among what revokes one (docs/graph-facts.md#refresh-tokens) and works again with the new secret.
 */
export const RESET_REQUIRED_AADSTS = new Set(['50173', '700082', '70008', '54005']);

/** The app's client secret has expired (docs/graph-facts.md#refresh-tokens). */
const CLIENT_SECRET_EXPIRED_AADSTS = '7000222';

/**
 * Entra's server throttling of token requests (docs/graph-facts.md#msal-node): a client credentials
 * request gets HTTP 429 with `Retry-After` (60 s in Microsoft's MSAL guidance), a user-facing one
 * (refresh token, authorization code, on-behalf-of) `invalid_grant` AADSTS50196 LoopDetected. Neither
 * says anything about the credentials or the stored grant: the caller waits and tries again.
 */
const LOOP_DETECTED_AADSTS = '50196';
/**
 * How long msal refuses a request again without asking Entra after a 429 or 5xx that gave no
 * Retry-After (msal-common ThrottlingUtils, DEFAULT_THROTTLE_TIME_SECONDS): the earliest a retry
 * can reach Entra.
 */
const MSAL_THROTTLE_SECONDS = 60;
const ANSWER_NOTE = /Entra ID answered HTTP (\d{3}) \(Retry-After: (\d+|not given)\)/;

/** The description msal-network gives a 429 or 5xx of Entra; `entraAnswerOf` reads it back. */
export function entraAnswerNote(status: number, retryAfterSeconds: number | undefined): string {
  return `Entra ID answered HTTP ${status} (Retry-After: ${retryAfterSeconds === undefined ? 'not given' : String(retryAfterSeconds)}).`;
}

/**
 * Entra's 429/5xx behind an msal error (its first answer or msal's replay of it): the status and the
 * seconds before msal asks Entra again. AADSTS50196 counts as a 429 (throttling).
 */
function entraAnswerOf(status: number | undefined, aadsts: string | undefined, rawMessage: string): { status: number; retryAfterSeconds: number } | undefined {
  const note = ANSWER_NOTE.exec(rawMessage);
  if (note) return { status: Number(note[1]), retryAfterSeconds: note[2] === 'not given' ? MSAL_THROTTLE_SECONDS : Math.max(1, Number(note[2])) };
  if (status === 429 || aadsts === LOOP_DETECTED_AADSTS) return { status: 429, retryAfterSeconds: MSAL_THROTTLE_SECONDS };
  return undefined;
}

/** msal codes that mean Entra could not be reached (endpoint discovery fails the same way). */
const NETWORK_CODES = new Set(['network_error', 'network_request_failed', 'endpoints_resolution_error']);

export type FlowName = 'client-credentials' | 'authorization-code' | 'on-behalf-of' | 'hosted-broker';

/**
 * What was being redeemed: the stored grant (a refresh token, the usual case), the code of a
 * sign-in at /auth/callback, or AUTH_CODE while nothing is stored. Only a refused stored grant is
 * a broken stored identity that `npm run auth:reset` (and a new sign-in) fixes. A refused
 * authorization code (already used, expired, not valid) says nothing about the stored identity,
 * which a failed redemption never touches: resetting it would only take down a working gateway.
 */
export type RedeemedGrant = 'stored' | 'sign-in-code' | 'configured-code';

/** Entra's answers that refuse the code itself (AADSTS54005 already redeemed, 70008 expired, 70000 not valid). */
const CODE_REFUSED_AADSTS = new Set(['54005', '70008', '70000']);

/**
 * AADSTS65001: nobody consented to the app using the permissions it asked for; Entra adds the
 * suberror `consent_required` (docs/graph-facts.md#caller-tokens). Neither the caller's token nor a
 * new sign-in of the same user fixes it: an administrator's consent does.
 */
const CONSENT_MISSING_AADSTS = '65001';

/** Conditional Access challenges are small JSON objects; anything else is not passed on. */
const MAX_CLAIMS_CHALLENGE_LENGTH = 4096;

/**
 * The claims challenge of an `interaction_required` answer (the OBO page's "Error response
 * example": Conditional Access on the downstream API), which the middle tier must hand back to its
 * client so the client can sign the user in again with it (docs/graph-facts.md#caller-tokens). Only a
 * bounded JSON object: it is Entra's text and travels to the caller.
 */
function claimsChallengeOf(claims: unknown): string | undefined {
  if (typeof claims !== 'string' || claims.length === 0 || claims.length > MAX_CLAIMS_CHALLENGE_LENGTH) return undefined;
  try {
    const parsed: unknown = JSON.parse(claims);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? claims : undefined;
  } catch {
    return undefined;
  }
}

function firstSentence(text: string): string {
  // msal formats server errors as "Error(s): 70008 - Timestamp: ... - Description: AADSTS70008: ...".
  const described = text.includes('Description: ') ? text.slice(text.indexOf('Description: ') + 'Description: '.length) : text;
  const line = described.split(/\r?\n/)[0] ?? '';
  const withoutCode = line.replace(/^AADSTS\d+:\s*/, '');
  const end = withoutCode.search(/\.(\s|$)/);
  return (end >= 0 ? withoutCode.slice(0, end + 1) : withoutCode).slice(0, 200);
}

/** `text` as a sentence: ends with exactly one full stop. */
function sentence(text: string): string {
  return text.endsWith('.') ? text : `${text}.`;
}

/**
 * Maps an msal error (compared by `errorCode`: v7 does not export its classes for instanceof) to
 * the GatewayError a caller sees: which flow failed, which AADSTS code, what to do; never a token,
 * secret or code.
 */
export function tokenErrorToGatewayError(flow: FlowName, error: unknown, secrets: readonly string[] = [], grant: RedeemedGrant = 'stored'): GatewayError {
  if (isGatewayError(error)) return error;
  // A stored record this process cannot open, met while serving (it opened at start-up): another
  // replica sealed it under a TOKEN_CACHE_KEY this one does not hold (a rotation being rolled out), or
  // it was altered. Not Entra's refusal, and `npm run auth:reset` (what the start-up check advises when
  // the key itself is lost) would delete the sign-in every replica serves; nor does a caller need the
  // store's location (docs/security.md#tokens-at-rest).
  if (error instanceof TokenCacheKeyMismatchError) {
    return new GatewayError(
      ErrorCode.UPSTREAM_UNAVAILABLE,
      `Graph token acquisition (${flow}) cannot open the stored token record in the gateway's token store: it was sealed with a TOKEN_CACHE_KEY this gateway process does not hold (replicas on different keys while a rotation is rolled out), or altered. Nothing was sent to Entra ID. Give every replica the same TOKEN_CACHE_KEY and TOKEN_CACHE_KEY_PREVIOUS (docs/operations.md#rotating-keys); do not reset the stored sign-in for this.`,
      { retryAfterSeconds: 5 },
    );
  }
  const e = (error ?? {}) as {
    errorCode?: string;
    errorMessage?: string;
    errorNo?: string | number;
    status?: number;
    subError?: string;
    claims?: unknown;
    message?: string;
  };
  const errorCode = e.errorCode ?? 'unknown_error';
  const rawMessage = e.errorMessage ?? e.message ?? '';
  const aadsts = e.errorNo !== undefined && e.errorNo !== null && String(e.errorNo) !== '' ? String(e.errorNo) : /AADSTS(\d+)/.exec(rawMessage)?.[1];
  const detail = scrubbedUpstreamText(firstSentence(rawMessage), secrets);
  const codeText = aadsts ? `AADSTS${aadsts} ${errorCode}` : errorCode;

  if (NETWORK_CODES.has(errorCode) || /request timeout/i.test(rawMessage)) {
    return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, `Graph token acquisition (${flow}) could not reach Entra ID: ${detail || 'network error'}`, {
      retryAfterSeconds: 5,
    });
  }
  const answer = entraAnswerOf(e.status, aadsts, rawMessage);
  if (answer?.status === 429) {
    return new GatewayError(
      ErrorCode.THROTTLED,
      `Graph token acquisition (${flow}) failed: Entra ID throttled it (${aadsts === LOOP_DETECTED_AADSTS ? `AADSTS${aadsts}` : 'HTTP 429'}): retry after ${answer.retryAfterSeconds} s. Entra throttles an app that asks for tokens too often, such as several processes sharing the app registration without a shared token cache.`,
      { retryAfterSeconds: answer.retryAfterSeconds },
    );
  }
  if (answer !== undefined && answer.status >= 500) {
    return new GatewayError(
      ErrorCode.UPSTREAM_UNAVAILABLE,
      `Graph token acquisition (${flow}) failed: Entra ID answered HTTP ${answer.status}; retry after ${answer.retryAfterSeconds} s.`,
      { retryAfterSeconds: answer.retryAfterSeconds },
    );
  }
  if (aadsts === CLIENT_SECRET_EXPIRED_AADSTS) {
    const kept = flow === 'authorization-code' ? ' The stored sign-in stays valid: no reset or new sign-in is needed.' : '';
    return new GatewayError(
      ErrorCode.UPSTREAM_ERROR,
      `Graph token acquisition (${flow}) failed with ${codeText}: the app's client secret has expired. Create a new one under Certificates & secrets of the app registration and set AZURE_CLIENT_SECRET to its value.${kept}`,
    );
  }
  // Before the code's own refusals: a missing consent is not a bad code (the same invalid_grant).
  if (aadsts === CONSENT_MISSING_AADSTS || e.subError === 'consent_required') {
    return new GatewayError(
      ErrorCode.FORBIDDEN,
      `Graph token acquisition (${flow}) failed with ${codeText}: the gateway's app registration holds no consent for the Microsoft Graph permissions it asks for. An administrator grants admin consent under API permissions of the app registration (\`npm run doctor\` lists them); signing in again does not help until then.`,
    );
  }
  if (grant !== 'stored' && (errorCode === 'invalid_grant' || (aadsts !== undefined && CODE_REFUSED_AADSTS.has(aadsts)))) {
    const how =
      grant === 'sign-in-code'
        ? 'The authorization code of this sign-in was refused (already used, expired or not valid); the stored identity is unchanged. Start again at /auth/login.'
        : 'AUTH_CODE was refused (already used, expired or not valid): sign in at /auth/login, or set a fresh AUTH_CODE (`npm run auth:login-url` prints the URL).';
    return new GatewayError(
      ErrorCode.UNAUTHENTICATED,
      `Graph token acquisition (${flow}) failed with ${codeText}${detail ? `: ${sentence(detail)}` : '.'} ${how}`,
    );
  }
  if (grant === 'stored' && aadsts && RESET_REQUIRED_AADSTS.has(aadsts)) {
    const how = flow === 'authorization-code' ? ' and sign in again at /auth/login' : '';
    return new GatewayError(
      ErrorCode.UNAUTHENTICATED,
      `Graph token acquisition (${flow}) failed with ${codeText}: the stored grant is no longer valid. Run \`npm run auth:reset\`${how}.`,
    );
  }
  if ((e.status !== undefined && e.status >= 500) || errorCode === 'temporarily_unavailable' || errorCode === 'server_error') {
    return new GatewayError(
      ErrorCode.UPSTREAM_UNAVAILABLE,
      `Graph token acquisition (${flow}) failed: Entra ID answered ${codeText}${detail ? ` (${detail})` : ''}`,
      {
        retryAfterSeconds: 5,
      },
    );
  }
  const challenge = claimsChallengeOf(e.claims);
  if (flow === 'on-behalf-of' && challenge !== undefined) {
    return new GatewayError(
      ErrorCode.UNAUTHENTICATED,
      `Graph token acquisition (on-behalf-of) failed with ${codeText}${detail ? `: ${sentence(detail)}` : '.'} A Conditional Access policy needs more from the caller's sign-in: the client must acquire a new token for this API passing extensions.claimsChallenge as the claims request parameter (MSAL's \`claims\`), then call again; the same token fails again.`,
      { claimsChallenge: challenge },
    );
  }
  if (
    errorCode === 'invalid_grant' ||
    errorCode === 'interaction_required' ||
    errorCode === 'no_tokens_found' ||
    errorCode === 'no_account_in_silent_request'
  ) {
    // A policy asking more of the signed-in account (interaction_required: MFA, a new sign-in) is met
    // by signing in again, which replaces the stored grant: a reset first would only stop every caller sooner.
    const how =
      flow === 'authorization-code' && grant === 'stored'
        ? errorCode === 'interaction_required'
          ? ' Sign in again at /auth/login (or set a fresh AUTH_CODE).'
          : ' Sign in again at /auth/login (or set a fresh AUTH_CODE) after `npm run auth:reset`.'
        : '';
    return new GatewayError(ErrorCode.UNAUTHENTICATED, `Graph token acquisition (${flow}) failed with ${codeText}${detail ? `: ${detail}` : ''}.${how}`);
  }
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, `Graph token acquisition (${flow}) failed with ${codeText}${detail ? `: ${detail}` : ''}`);
}
