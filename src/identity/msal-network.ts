import { AuthError } from '@azure/msal-node';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { parseRetryAfter } from '../http/retry-after.js';
import { requestVia, type UpstreamHttp } from '../http/upstream.js';
import { entraAnswerNote } from './token-errors.js';

/**
 * msal's network module over our one upstream HTTP layer, so token requests trust the same CAs,
 * use the same proxy and the same timeouts as Graph calls (msal's default client is bare fetch).
 * Failures surface as msal `network_error` with only the error code (never the request body,
 * which carries secrets).
 */
export function createMsalNetworkModule(upstream: UpstreamHttp, defaultTimeoutMs = 30_000): INetworkModule {
  const send = async <T>(method: 'GET' | 'POST', url: string, options: NetworkRequestOptions | undefined, timeoutMs: number): Promise<NetworkResponse<T>> => {
    let response;
    try {
      response = await requestVia(upstream, url, {
        method,
        headers: options?.headers ?? {},
        ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new AuthError('network_error', `network request to ${new URL(url).host} failed (${describeNetworkFailure(error)})`);
    }
    const headers = response.headers;
    const text = response.text;
    let body: unknown;
    let json = true;
    try {
      body = text.length > 0 ? JSON.parse(text) : {};
    } catch {
      // A proxy's HTML error page: give msal a well-formed OAuth error instead of a parse failure.
      json = false;
      body = { error: 'invalid_response', error_description: `HTTP ${response.status} with a non-JSON body from ${new URL(url).host}` };
    }
    if (response.status === 429 || response.status >= 500) {
      // Entra throttling (429) or unavailable (5xx): msal-common's ThrottlingUtils then refuses the
      // same request without asking Entra for `Retry-After` seconds (60 when absent), throwing the
      // description alone, without the status or an error code; and it keeps the status of the
      // first answer only for client credentials. So the description names the status and the
      // Retry-After (docs/graph-facts.md#msal-node); `entraAnswerOf` reads them back. A 429's body
      // need not be an OAuth error at all ("Too Many Requests").
      const entra = json && typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
      const own = typeof entra['error_description'] === 'string' ? ` ${entra['error_description']}` : json ? '' : ` A non-JSON body from ${new URL(url).host}.`;
      const fallbackError = response.status === 429 || response.status === 503 ? 'temporarily_unavailable' : 'server_error';
      body = {
        ...entra,
        error: typeof entra['error'] === 'string' && entra['error'] !== '' ? entra['error'] : fallbackError,
        error_description: `${entraAnswerNote(response.status, parseRetryAfter(headers['retry-after']))}${own}`,
      };
    }
    if (response.status >= 300 && response.status < 400) {
      // A redirect is not followed (docs/security.md#upstream-redirects-are-not-followed), and msal
      // reads a bodiless 3xx as a token response without a token, which came out as UNAUTHENTICATED
      // (no_tokens_found): Entra answered what it never answers, so it is an upstream error.
      body = { error: 'invalid_response', error_description: `HTTP ${response.status} redirect from ${new URL(url).host}, not followed` };
    }
    return { headers, body: body as T, status: response.status };
  };
  return {
    sendGetRequestAsync: (url, options, timeout) => send('GET', url, options, timeout ?? defaultTimeoutMs),
    sendPostRequestAsync: (url, options) => send('POST', url, options, defaultTimeoutMs),
  };
}

/** A short, secret-free description of a fetch failure (error codes only). */
export function describeNetworkFailure(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const e = current as { name?: string; code?: string; cause?: unknown; proxyStatus?: unknown };
    // Which answer HTTPS_PROXY gave (407: its credentials) is what the operator needs to act.
    if (typeof e.proxyStatus === 'number') parts.push(`proxy answered ${e.proxyStatus}`);
    if (e.code) parts.push(e.code);
    else if (e.name === 'TimeoutError' || e.name === 'AbortError') parts.push('timeout');
    current = e.cause;
  }
  return parts.length > 0 ? [...new Set(parts)].join(', ') : 'connection failed';
}
