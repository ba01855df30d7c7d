import { GraphQLError } from 'graphql';

/**
 * The closed, public set of error codes a caller can see in `extensions.code` (a public contract, docs/design.md).
 * Nothing else ever reaches a client: unexpected failures become INTERNAL_SERVER_ERROR with a
 * correlation id, and the detail stays in the log.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNSUPPORTED_DEPLOYMENT_MODE: 'UNSUPPORTED_DEPLOYMENT_MODE',
  /** The field needs another kind of Graph identity (a signed-in user, not the app itself). */
  UNSUPPORTED_GRAPH_IDENTITY: 'UNSUPPORTED_GRAPH_IDENTITY',
  THROTTLED: 'THROTTLED',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_ERROR: 'UPSTREAM_ERROR',
  OPERATION_TOO_COMPLEX: 'OPERATION_TOO_COMPLEX',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status that goes with a code when the error ends a whole request (not a field). */
export const httpStatusOf: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  UNSUPPORTED_DEPLOYMENT_MODE: 400,
  UNSUPPORTED_GRAPH_IDENTITY: 400,
  THROTTLED: 429,
  UPSTREAM_UNAVAILABLE: 503,
  UPSTREAM_ERROR: 502,
  OPERATION_TOO_COMPLEX: 400,
  INTERNAL_SERVER_ERROR: 500,
};

export interface GatewayErrorExtensions {
  /** Graph's `request-id` of the upstream call that failed, when there was one. */
  requestId?: string;
  /** Seconds after which retrying makes sense (THROTTLED, UPSTREAM_UNAVAILABLE). */
  retryAfterSeconds?: number;
  [key: string]: unknown;
}

/**
 * An error whose message and extensions are safe to show to the caller as they are.
 * Messages must never contain a token, a secret, a password or an upstream body.
 */
export class GatewayError extends GraphQLError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, extensions: GatewayErrorExtensions = {}, options?: { cause?: unknown }) {
    super(message, { extensions: { ...extensions, code }, originalError: options?.cause instanceof Error ? options.cause : undefined });
    this.code = code;
    this.name = 'GatewayError';
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

export function badInput(message: string, extensions: GatewayErrorExtensions = {}): GatewayError {
  return new GatewayError(ErrorCode.BAD_USER_INPUT, message, extensions);
}
