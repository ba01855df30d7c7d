import { parse as parseContentType } from 'content-type';

/**
 * A request's `Content-Type`, read as RFC 9110 §8.3 defines it: `type/subtype *( OWS ";" OWS [ parameter ] )`,
 * a parameter `token "=" ( token / quoted-string )`. Read with `content-type` (jshttp, the parser of
 * body-parser and of Apollo Server's own dependencies) rather than a regular expression: the
 * expression this replaced took the first `charset=` anywhere, so a repeated `charset` was judged by
 * its first value and a `charset=` inside another parameter's quoted value
 * (`foo="x; charset=latin1"`) was taken for the charset.
 */
export type MediaType =
  | { kind: 'ok'; type: string; parameters: Readonly<Record<string, string>> }
  /** Not a media type by the grammar: what charset it declares cannot be told. */
  | { kind: 'malformed' }
  /** A parameter given twice (RFC 6838 §4.3 calls that an error): which one counts is a guess. */
  | { kind: 'repeated'; parameter: string };

/**
 * Two things the library does not do, and why this file splits the parameters itself first (on `;`
 * outside quoted strings only, which is all it does; the library then checks the grammar and
 * unquotes the values):
 * - content-type 1.x follows RFC 7231, where a parameter may not be empty; RFC 9110 allows
 *   `application/json;` and `application/json; charset=utf-8;`, which clients send. Empty
 *   parameters are dropped before the library reads the rest.
 * - the library keeps the last of a repeated parameter and does not say there were two; a proxy in
 *   front may keep the first. The names of the parameters are compared here.
 */
export function parseMediaType(header: string): MediaType {
  const [type = '', ...parameters] = splitParameters(header);
  const kept = parameters.map(trimOws).filter((p) => p !== '');
  let parsed;
  try {
    parsed = parseContentType([trimOws(type), ...kept].join('; '));
  } catch {
    return { kind: 'malformed' };
  }
  // The grammar holds now: each parameter is `name = value`, and the name cannot hold `=`.
  const seen = new Set<string>();
  for (const parameter of kept) {
    const name = trimOws(parameter.slice(0, parameter.indexOf('='))).toLowerCase();
    if (seen.has(name)) return { kind: 'repeated', parameter: name };
    seen.add(name);
  }
  return { kind: 'ok', type: parsed.type, parameters: parsed.parameters };
}

/** `header` cut at each `;` that is not inside a quoted string (RFC 9110 §5.6.4: `\` escapes the next character there). */
function splitParameters(header: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) quoted = true;
    else if (c === 0x3b) {
      parts.push(header.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(header.slice(start));
  return parts;
}

/** Without RFC 9110's optional whitespace (space, tab) at either end; `String.trim` takes more (U+00A0...). */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return text.slice(start, end);
}
