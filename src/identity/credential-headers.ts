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

/** A header a caller authentication reads a credential from. */
export interface CredentialHeader {
  name: string;
  /**
   * The schemes that make its value a credential for this gateway (`Authorization: ApiKey`,
   * `Bearer`); any value when absent. `Authorization: Basic` beside `x-api-key` is the login of an
   * authenticating proxy in front (nginx's auth_basic passes it on), which the gateway never reads.
   */
  schemes?: readonly string[];
}

/** Every value of header `name` (lower case) the request carries, repeats included. */
function valuesOf(request: CredentialRequest, name: string): string[] {
  if (request.rawHeaders) {
    const values: string[] = [];
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) if (request.rawHeaders[i]!.toLowerCase() === name) values.push(request.rawHeaders[i + 1]!);
    return values;
  }
  const value = request.headers[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * Refuses (400 BAD_USER_INPUT, reason AMBIGUOUS_CREDENTIALS) a request that carries one of the
 * `headers` twice, or credentials in more than one of them.
 */
export function assertOneCredential(request: CredentialRequest, headers: readonly CredentialHeader[]): void {
  let credentials = 0;
  let repeated = false;
  for (const header of headers) {
    const values = valuesOf(request, header.name.toLowerCase());
    if (values.length > 1) repeated = true;
    const schemes = header.schemes?.map((scheme) => scheme.toLowerCase());
    credentials += schemes ? values.filter((value) => schemes.includes(value.trim().split(/\s/, 1)[0]!.toLowerCase())).length : values.length;
  }
  if (!repeated && credentials <= 1) return;
  throw new GatewayError(
    ErrorCode.BAD_USER_INPUT,
    `The request carries more than one credential: send one ${headers.map((header) => header.name).join(' or ')} header, once. None of them was looked at.`,
    { reason: AMBIGUOUS_CREDENTIALS },
  );
}

export function isAmbiguousCredentials(error: unknown): boolean {
  return error instanceof GatewayError && error.extensions.reason === AMBIGUOUS_CREDENTIALS;
}
