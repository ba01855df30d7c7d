/**
 * Text another service wrote (an error message of Graph, of the hosted broker, of a token
 * endpoint), made fit for one log field or one error message: one line, nothing that steers a
 * terminal or a log viewer, and bounded.
 *
 * Removed, each run becoming one space (and runs of spaces then one space):
 * - C0 and C1 control characters and DEL (a newline forges a second log line in a text log; ESC
 *   starts terminal escape sequences);
 * - U+2028 and U+2029 (line and paragraph separators: new lines to JavaScript and many viewers);
 * - the bidirectional formatting characters U+202A–U+202E and U+2066–U+2069, and the marks U+200E,
 *   U+200F and U+061C, which reorder what a reader sees ("Trojan Source", CVE-2021-42574): a message
 *   can display as something else than it says.
 *
 * Neutralise before scrubbing secrets from the text (`scrubSecrets` below): a secret split
 * by one of these characters is not recognised by the scrubber, and removing the character
 * afterwards would join it again; replaced by a space it stays split.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]+/g;

/** The default bound of one upstream text in a log line or message, in characters. */
export const MAX_UPSTREAM_TEXT = 300;

/**
 * `text` on one printable line of at most `maxLength` characters (code points; a cut never splits
 * a surrogate pair, and a cut text ends with `…`).
 */
export function printableUpstreamText(text: string, maxLength = MAX_UPSTREAM_TEXT): string {
  // Two linear passes: one pattern taking the spaces around each run would backtrack on long runs of spaces.
  const flat = text.replace(UNPRINTABLE, ' ').replace(/ {2,}/g, ' ').trim();
  if (flat.length <= maxLength) return flat;
  const points = Array.from(flat);
  return points.length > maxLength ? `${points.slice(0, maxLength).join('')}…` : flat;
}

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*/g;
const LONG_OPAQUE = /[A-Za-z0-9_\-+/=.~]{40,}/g;

/**
 * Removes anything token-shaped from a server message before it reaches a log or a caller:
 * JWTs, long opaque strings (refresh tokens, codes, secrets) and the known secret values.
 */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  return removeKnownSecrets(text, secrets).replace(JWT_LIKE, '[redacted]').replace(LONG_OPAQUE, '[redacted]');
}

/**
 * Another service's text (Entra's, the hosted broker's, Microsoft Graph's) fit for a log line or
 * an error: printable first, so a secret split by a control or bidi character stays split and is
 * still found, then scrubbed, then bounded.
 */
export function scrubbedUpstreamText(text: string, secrets: readonly string[], maxLength = Infinity): string {
  return printableUpstreamText(scrubSecrets(printableUpstreamText(text, Infinity), secrets), maxLength);
}

/**
 * Only the known secret values: for text whose long strings are not tokens (a stack's file paths).
 * In any letter case: the broker's Token is a tenant id, a GUID that Entra and the broker write in
 * lower case whatever case BROKER_TOKEN was given in (and a little too much redacted costs nothing).
 */
export function removeKnownSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.replace(new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '[redacted]');
  return out;
}
