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
 * Neutralise before scrubbing secrets from the text (src/identity/token-errors.ts): a secret split
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
