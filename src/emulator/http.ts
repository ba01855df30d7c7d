/**
 * The emulator's own tiny request/response model. Routes are plain async functions from an
 * EmuRequest to an EmuResponse, so `$batch` can dispatch its items through the very same Graph
 * router that serves single requests, and fault injection and statistics wrap either.
 */
export interface EmuRequest {
  method: string;
  /** Parsed URL (absolute, on the emulator's own origin). */
  url: URL;
  /** The path exactly as received, before percent-decoding (Graph addressing depends on it). */
  rawPath: string;
  /** The query string as received (`?` included, still percent-encoded), or '' when there is none. */
  rawQuery: string;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  body: Buffer;
  /** Set for `$batch` items: the id of the item inside its batch. */
  batchItemId?: string;
}

export interface EmuResponse {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  body?: unknown;
  /** Route template for statistics, e.g. `GET /v1.0/users/{id}`. */
  route?: string;
  /** Drop the connection without answering (fault injection). */
  destroy?: boolean;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): EmuResponse {
  return { status, body, headers: { 'content-type': 'application/json', ...headers } };
}

export function readJsonBody(req: EmuRequest): unknown {
  if (req.body.length === 0) return undefined;
  return JSON.parse(req.body.toString('utf8'));
}

export function readFormBody(req: EmuRequest): URLSearchParams {
  return new URLSearchParams(req.body.toString('utf8'));
}
