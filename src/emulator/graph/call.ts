/** One Graph request being served: the emulator context, the request, the caller and its ids. */
import type { EmulatorContext } from '../context.js';
import type { EmuRequest, EmuResponse } from '../http.js';
import type { Principal } from './authorization.js';
import { badRequest, type RequestIds } from './errors.js';

export interface GraphCall {
  ctx: EmulatorContext;
  req: EmuRequest;
  version: 'v1.0' | 'beta';
  principal: Principal;
  ids: RequestIds;
}

export function ok(status: number, body: unknown, headers: Record<string, string> = {}): EmuResponse {
  return {
    status,
    body,
    headers: { 'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8', ...headers },
  };
}

export function noContent(): EmuResponse {
  return { status: 204 };
}

export function metadataUrl(call: GraphCall, fragment: string): string {
  return `${call.ctx.origin}/${call.version}/$metadata#${fragment}`;
}

export function isEventual(call: GraphCall): boolean {
  return (call.req.headers.consistencylevel ?? '').trim().toLowerCase() === 'eventual';
}

/** A query parameter by its OData name (`$top`); Graph also accepts it without the `$` in v1.0. */
export function queryParam(call: GraphCall, name: string): string | undefined {
  const params = call.req.url.searchParams;
  return params.get(name) ?? params.get(name.replace(/^\$/, '')) ?? undefined;
}

export function readJson(call: GraphCall): unknown {
  if (call.req.body.length === 0) return undefined;
  try {
    return JSON.parse(call.req.body.toString('utf8'));
  } catch {
    throw badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.', 'BadRequest');
  }
}

/** A JSON object body, or Graph's 400. */
export function readJsonObject(call: GraphCall): Record<string, unknown> {
  const body = readJson(call);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.', 'BadRequest');
  }
  return body as Record<string, unknown>;
}
