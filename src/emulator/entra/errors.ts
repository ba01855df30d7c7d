import { randomUUID } from 'node:crypto';
import type { EmulatorContext } from '../context.js';
import type { EmuRequest, EmuResponse } from '../http.js';

/** OAuth error values Entra's token endpoint uses. */
export type AadErrorKind =
  | 'invalid_request'
  | 'invalid_client'
  | 'unauthorized_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'invalid_resource'
  | 'unsupported_grant_type'
  | 'interaction_required';

/** A refusal decided by a grant, turned into the AAD error body by `aadErrorResponse`. */
export interface AadError {
  kind: AadErrorKind;
  /** AADSTS number. */
  code: number;
  /** Message after `AADSTSnnn: `. Must never contain a secret, password, code or token. */
  message: string;
  /** 400 unless the client failed to authenticate (401). */
  status?: number;
  /** `suberror` of the body: `consent_required` for AADSTS65001 (docs/graph-facts.md#caller-tokens). */
  suberror?: string;
  /** `claims`: the claims challenge of a Conditional Access refusal (docs/graph-facts.md#caller-tokens). */
  claims?: string;
}

export function aadError(kind: AadErrorKind, code: number, message: string, status?: number, extra: { suberror?: string; claims?: string } = {}): AadError {
  return { kind, code, message, ...(status === undefined ? {} : { status }), ...extra };
}

export function isAadError(value: unknown): value is AadError {
  return typeof value === 'object' && value !== null && 'kind' in value && 'code' in value && 'message' in value;
}

/** `2024-05-01 12:34:56Z`, the timestamp format of AAD error bodies. */
function aadTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** The AAD v2.0 error body: `{error, error_description, error_codes, timestamp, trace_id, correlation_id, error_uri}`. */
export function aadErrorResponse(ctx: EmulatorContext, req: EmuRequest, error: AadError, route: string): EmuResponse {
  const traceId = randomUUID();
  const correlationId = req.headers['client-request-id'] ?? randomUUID();
  const timestamp = aadTimestamp(ctx.now());
  const description = `AADSTS${error.code}: ${error.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`;
  return {
    status: error.status ?? (error.kind === 'invalid_client' ? 401 : 400),
    route,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store, no-cache',
      pragma: 'no-cache',
      'x-ms-request-id': traceId,
      'client-request-id': correlationId,
    },
    body: {
      error: error.kind,
      error_description: description,
      error_codes: [error.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${ctx.origin}/error?code=${error.code}`,
      ...(error.suberror === undefined ? {} : { suberror: error.suberror }),
      ...(error.claims === undefined ? {} : { claims: error.claims }),
    },
  };
}
