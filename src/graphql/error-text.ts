import type { GraphQLError } from 'graphql';

/**
 * Rewrites every text of an error that can reach a client or a log line: its message, its stack
 * (which repeats the message), its string extensions, and the same for every error it wraps
 * (Apollo's ValidationError / UserInputError keep the graphql-js error as `originalError`, and the
 * operation log writes that one). Errors are rewritten in place, before any other plugin sees them.
 *
 * Except `extensions.code`: a closed set of codes (src/errors.ts, and Apollo's and graphql-js's own
 * that the formatter maps), set by the server, never the caller's text. A caller who sent
 * `GRAPHQL_VALIDATION_FAILED` under a `password` key had it redacted from the code of each of its
 * validation errors, which the formatter then took for internal failures: INTERNAL_SERVER_ERROR
 * answers and one `error` log line with a stack per error (125 KB of log from a 1 KB request).
 */
export const UNREWRITTEN_EXTENSION = 'code';

export function rewriteErrorText(error: GraphQLError, rewrite: (text: string) => string): void {
  const seen = new Set<object>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    rewriteOwnText(current, rewrite);
    current = (current as { originalError?: unknown }).originalError ?? current.cause;
  }
}

function rewriteOwnText(error: Error, rewrite: (text: string) => string): void {
  const message = rewrite(error.message);
  if (message !== error.message) error.message = message;
  if (typeof error.stack === 'string') {
    const stack = rewrite(error.stack);
    if (stack !== error.stack) error.stack = stack;
  }
  const extensions = (error as { extensions?: unknown }).extensions;
  if (extensions && typeof extensions === 'object') rewriteValues(extensions as Record<string, unknown>, rewrite, 0);
}

function rewriteValues(record: Record<string, unknown>, rewrite: (text: string) => string, depth: number): void {
  if (depth > 4 || Object.isFrozen(record)) return;
  for (const [key, value] of Object.entries(record)) {
    if (depth === 0 && key === UNREWRITTEN_EXTENSION) continue;
    if (typeof value === 'string') {
      const rewritten = rewrite(value);
      if (rewritten !== value) record[key] = rewritten;
    } else if (value && typeof value === 'object' && !(value instanceof Error)) {
      rewriteValues(value as Record<string, unknown>, rewrite, depth + 1);
    }
  }
}
