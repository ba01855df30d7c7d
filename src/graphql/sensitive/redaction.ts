/**
 * Text redaction for error messages and log lines. Three cases:
 * - the request's own secrets are known (`secretsOfRequest`): each is replaced wherever it appears,
 *   raw or as graphql-js escapes it (`inspect` uses JSON escapes, `print` GraphQL string escapes);
 * - the request carried more secret values than are replaced one by one (`withholdAll`): every
 *   text is withheld whole, except the closed vocabularies of codes;
 * - the document did not parse, so nothing is typed: a syntax error quotes the offending token,
 *   which may be a password literal, so token values are dropped from syntax errors altogether.
 */
export const REDACTED = '[REDACTED]';

/** What an error says when its text is withheld. */
export const WITHHELD =
  '[REDACTED] The text of this error is withheld: the request carried more secret (@sensitive) values than the gateway removes from error texts one by one.';

/**
 * Codes and reasons (`BAD_USER_INPUT`, `GRAPHQL_VALIDATION_FAILED`, `UNKNOWN`): error extensions of
 * the gateway's closed vocabularies, kept when everything else is withheld so the caller still
 * learns what kind of problem it was, and the error formatter still classifies it.
 */
const CLOSED_VOCABULARY = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The redactor of a request whose secrets are too many: nothing of the error texts survives but their codes. */
export function withholdAll(text: string): string {
  return CLOSED_VOCABULARY.test(text) ? text : WITHHELD;
}

/** Secrets this short are replaced only where they stand alone, so a message stays readable. */
const SHORT_SECRET = 4;

export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const alternatives = new Set<string>();
  for (const secret of secrets) {
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1), graphqlEscaped(secret)])) {
      if (form.length === 0) continue;
      const escaped = escapeRegExp(form);
      alternatives.add(form.length >= SHORT_SECRET ? escaped : `(?<![A-Za-z0-9_])${escaped}(?![A-Za-z0-9_])`);
    }
  }
  if (alternatives.size === 0) return (text) => text;
  let pattern: RegExp;
  try {
    // Longest first: a secret that contains another one is removed whole.
    pattern = new RegExp([...alternatives].sort((a, b) => b.length - a.length).join('|'), 'g');
  } catch {
    // secretsOfRequest bounds what comes here; should V8 still refuse the pattern, its error
    // would quote every secret (and reach the log): fail closed instead.
    return withholdAll;
  }
  return (text) => text.replace(pattern, REDACTED);
}

/** How graphql-js `print` writes a string literal's content (its printString escapes). */
function graphqlEscaped(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\x00-\x1f\x22\x5c\x7f-\x9f]/g, (char) => {
    switch (char) {
      case '"':
        return '\\"';
      case '\\':
        return '\\\\';
      case '\b':
        return '\\b';
      case '\f':
        return '\\f';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    }
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A syntax error without the values it quotes: `Expected ":", found String "hunter2".` becomes
 * `Expected ":", found String.` (the location still says where). Token descriptions end the
 * message, and their value is not escaped, so everything from the opening quote to the last one goes.
 */
export function redactSyntaxError(message: string): string {
  return message.replace(/\b(String|BlockString|Name|Int|Float) ".*"(?=[^"]*$)/s, '$1').replace(/\b(escape sequence): ".*"(?=[^"]*$)/s, '$1');
}
