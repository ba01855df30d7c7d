/**
 * Graph's error shape and a throwable carrying it. Route code throws GraphError; the router turns it
 * into `{"error":{"code","message","innerError":{...}}}` with this request's ids.
 */
import type { EmuResponse } from '../http.js';

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface RequestIds {
  requestId: string;
  clientRequestId: string;
  /** HTTP date of the response. */
  date: string;
}

export function errorBody(code: string, message: string, ids: RequestIds, innerCode?: string): unknown {
  return {
    error: {
      code,
      message,
      innerError: {
        ...(innerCode ? { code: innerCode } : {}),
        date: new Date(Date.parse(ids.date)).toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
      },
    },
  };
}

export function errorResponse(error: GraphError, ids: RequestIds): EmuResponse {
  return {
    status: error.status,
    headers: { 'content-type': 'application/json', ...error.headers },
    body: errorBody(error.code, error.message, ids),
  };
}

export const badRequest = (message: string, code = 'Request_BadRequest') => new GraphError(400, code, message);
export const unsupportedQuery = (message: string) => new GraphError(400, 'Request_UnsupportedQuery', message);
/**
 * A PIM list in a tenant without Entra ID P2 or Governance (field reports, maester365/maester#1421;
 * docs/graph-facts.md#writes-and-permissions, "Licence"). GraphSettings.pimLicence.
 */
export const pimUnlicensed = () =>
  new GraphError(400, 'AadPremiumLicenseRequired', 'The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.');
export const forbidden = () => new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
export const notFound = (id: string) =>
  new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
export const unknownProperty = (name: string, type = 'microsoft.graph.user') => badRequest(`Could not find a property named '${name}' on type '${type}'.`);
