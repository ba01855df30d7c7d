/**
 * `Retry-After` (RFC 9110 §10.2.3) as whole seconds, read the same way for Graph's answers
 * (src/graph/retry.ts) and Entra's (src/identity/msal-network.ts): delta-seconds or an HTTP date,
 * capped at MAX_RETRY_AFTER_SECONDS; undefined when absent or not understood.
 */

/** Longest Retry-After the gateway will honour; beyond it the caller is told to come back. */
export const MAX_RETRY_AFTER_SECONDS = 3600;

export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(Math.ceil(Number(text)), MAX_RETRY_AFTER_SECONDS);
  // HTTP-date (IMF-fixdate and the obsolete forms Date.parse understands); digits-only text is not a date.
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, Math.ceil((at - nowMs) / 1000)), MAX_RETRY_AFTER_SECONDS);
}
