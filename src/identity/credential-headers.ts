import { ErrorCode, GatewayError } from '../errors.js';

/**
 * A request carries one credential, in one header, once (docs/security.md#one-credential-per-request).
 *
 * With CALLER_AUTH=api-key a key may come as `x-api-key` or as `Authorization: ApiKey`, and `x-api-key`
 * used to win silently: a request with a good `x-api-key` and any `Authorization` (a wrong key, a
 * bearer token an intermediary added, another client's key) was served as the `x-api-key`'s holder,
 * and whatever read the other header (a proxy's log, an upstream policy, a person debugging) judged
 * the request by a credential the gateway never looked at. Node also keeps only the first of two
 * `Authorization` headers and joins two `x-api-key` headers into one value, so a repeated header was
 * decided by its order. RFC 6750 §3.1 answers a request that "uses more than one method for including
 * an access token" with `invalid_request`, HTTP 400: the gateway does the same, before looking at any
 * of the values (so the refusal says nothing about which one was right).
 */
export const AMBIGUOUS_CREDENTIALS = 'AMBIGUOUS_CREDENTIALS';

/** What the authenticator sees of a request: the parsed headers, and the raw list when there is one (repeats are only visible there). */
export interface CredentialRequest {
  headers: Record<string, string | string[] | undefined>;
  /** Node's `req.rawHeaders`: name, value, name, value... */
  rawHeaders?: readonly string[];
}

/** How many credential headers the request carries among `names`, repeats included. */
function occurrences(request: CredentialRequest, names: readonly string[]): number {
  const lower = names.map((name) => name.toLowerCase());
  if (request.rawHeaders) {
    let count = 0;
    for (let i = 0; i < request.rawHeaders.length; i += 2) if (lower.includes(request.rawHeaders[i]!.toLowerCase())) count += 1;
    return count;
  }
  return lower.filter((name) => request.headers[name] !== undefined).length;
}

/**
 * Refuses (400 BAD_USER_INPUT, reason AMBIGUOUS_CREDENTIALS) a request that carries more than one of
 * the credential headers `names` of the caller authentication in use, or one of them twice.
 */
export function assertOneCredential(request: CredentialRequest, names: readonly string[]): void {
  if (occurrences(request, names) <= 1) return;
  throw new GatewayError(
    ErrorCode.BAD_USER_INPUT,
    `The request carries more than one credential: send exactly one ${names.join(' or ')} header, once. None of them was looked at.`,
    { reason: AMBIGUOUS_CREDENTIALS },
  );
}

export function isAmbiguousCredentials(error: unknown): boolean {
  return error instanceof GatewayError && error.extensions.reason === AMBIGUOUS_CREDENTIALS;
}
