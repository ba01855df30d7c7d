import { ErrorCode, GatewayError, type GatewayErrorExtensions } from '../../errors.js';

/**
 * OPERATION_TOO_COMPLEX as a request-level error. `extensions.http` makes Apollo answer 400 when
 * the error is thrown from a plugin hook (its default there is 500); Apollo removes `http` from
 * the extensions the caller sees.
 */
export function operationTooComplex(message: string, extensions: GatewayErrorExtensions = {}): GatewayError {
  return new GatewayError(ErrorCode.OPERATION_TOO_COMPLEX, message, { ...extensions, http: { status: 400 } });
}
