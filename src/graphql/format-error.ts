import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ErrorCode, isGatewayError } from '../errors.js';

/** Apollo / graphql-js codes for problems in the request itself; callers see them as BAD_USER_INPUT with the original code as `reason`. */
const REQUEST_PROBLEM_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** graphql-armor's rejections ("Query depth limit of 10 exceeded, found 12."). */
const LIMIT_EXCEEDED = /\blimit of \d+ exceeded\b/i;
const PUBLIC_CODES = new Set<string>(Object.values(ErrorCode));
/**
 * graphql-js's (and src/graphql/scalars.ts's) refusals of a result value (graphql-js 16,
 * `completeLeafValue`: "String cannot represent value: …", "Boolean cannot represent a non boolean
 * value: …", "Enum \"X\" cannot represent value: …"). Only errors with a path are results: a refused
 * argument or variable has none.
 */
const RESULT_COERCION = /^(?:String|Int|Float|Boolean|ID|DateTime|EmailAddress) cannot represent\b|^Enum "[^"]*" cannot represent\b/;

export const INTERNAL_ERROR_PLACEHOLDER = 'Internal error';
const NESTED_TOO_DEEPLY = 'Syntax Error: the document nests lists, objects or selections too deeply to be read.';

/**
 * Apollo `formatError`: the only path from an error to a client. GatewayErrors pass through with
 * their code and safe extensions; request problems found by graphql-js keep their (query-derived)
 * message; everything else is masked. The masked message gets its correlation id in the
 * operation plugin, which also logs the real error (formatError sees no context).
 */
export function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const unwrapped = unwrapResolverError(error);
  // A GatewayError reported by a validation rule (UNSUPPORTED_DEPLOYMENT_MODE) arrives inside Apollo's ValidationError.
  const inner = (unwrapped as { originalError?: unknown } | null)?.originalError;
  const original = !formatted.path && isGatewayError(inner) ? inner : unwrapped;
  const base = { ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
  if (isGatewayError(original)) {
    return { ...base, message: original.message, extensions: { ...publicExtensions(original.extensions), code: original.code } };
  }
  const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : undefined;
  const fromGraphqlJs = !(original instanceof Error) || original === error || (error as { originalError?: unknown }).originalError == null;
  if (fromGraphqlJs && LIMIT_EXCEEDED.test(formatted.message)) {
    return { ...base, message: formatted.message.replace(/^Syntax Error:\s*/, ''), extensions: { code: ErrorCode.OPERATION_TOO_COMPLEX } };
  }
  if (code && REQUEST_PROBLEM_CODES.has(code) && fromGraphqlJs) {
    // graphql-js parses nested lists and objects by recursion: a literal nested a few thousand deep
    // (under MAX_TOKENS) runs out of stack, and Apollo passes the engine's own words on.
    const message = code === 'GRAPHQL_PARSE_FAILED' && ranOutOfStack(error) ? NESTED_TOO_DEEPLY : formatted.message;
    return { ...base, message, extensions: { code: ErrorCode.BAD_USER_INPUT, reason: code } };
  }
  // A GraphQLError thrown deliberately with one of our public codes (e.g. by a plugin).
  if (code && PUBLIC_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR && fromGraphqlJs) {
    return { ...base, message: formatted.message, extensions: { code } };
  }
  // A leaf value its field's type cannot represent. The resolvers hand Graph's values to the fields
  // as Graph sent them, so it is Graph's answer that does not fit: an upstream error, not the
  // gateway's. graphql-js writes the whole value into its message, which is neither shown nor (as an
  // internal error would be) logged: a token Graph echoed into a field went to the log whole
  // (docs/security.md#values-graph-sends-of-the-wrong-type).
  if (formatted.path && RESULT_COERCION.test(formatted.message)) {
    const field = [...formatted.path].reverse().find((segment): segment is string => typeof segment === 'string');
    return { ...base, message: `Microsoft Graph sent a value the field ${field ?? '?'} cannot hold.`, extensions: { code: ErrorCode.UPSTREAM_ERROR } };
  }
  return { ...base, message: INTERNAL_ERROR_PLACEHOLDER, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}

/** Apollo's SyntaxError wraps a GraphQLError that wraps what the parser threw: a RangeError when it ran out of stack. */
function ranOutOfStack(error: unknown): boolean {
  let cause = error;
  for (let depth = 0; depth < 3 && typeof cause === 'object' && cause !== null; depth++) {
    if (cause instanceof RangeError) return true;
    cause = (cause as { originalError?: unknown }).originalError;
  }
  return cause instanceof RangeError;
}

/** Only plain, small values travel to clients: never an upstream body or an Error object. */
function publicExtensions(extensions: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(extensions)) {
    if (key === 'http' || key === 'exception' || key === 'stacktrace') continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  }
  return out;
}
