import type { GraphQLError } from 'graphql';

/**
 * Rewrites every text of an error that can reach a client or a log line: its message, its stack
 * (which repeats the message), its string extensions, and the same for every error it wraps
 * (Apollo's ValidationError / UserInputError keep the graphql-js error as `originalError`, and the
 * operation log writes that one). Errors are rewritten in place, before any other plugin sees them.
 */
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
    if (typeof value === 'string') {
      const rewritten = rewrite(value);
      if (rewritten !== value) record[key] = rewritten;
    } else if (value && typeof value === 'object' && !(value instanceof Error)) {
      rewriteValues(value as Record<string, unknown>, rewrite, depth + 1);
    }
  }
}
