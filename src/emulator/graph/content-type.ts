/**
 * What a write must say its body is (docs/graph-facts.md#json-batching): JSON, or nothing when it
 * carries no body.
 */
import type { EmuRequest } from '../http.js';
import { GraphError } from './errors.js';

const JSON_MEDIA_TYPES = ['application/json'];

/** Writes to an entity (create or update a user), which Graph answers with its entity-write message. */
const ENTITY_WRITE_TEMPLATES = new Set([
  'POST /v1.0/users',
  'POST /beta/users',
  'PATCH /v1.0/users/{id}',
  'PATCH /beta/users/{id}',
  'PATCH /v1.0/me',
  'PATCH /beta/me',
]);

/**
 * A write whose `Content-Type` names something other than JSON is refused before it runs, body or
 * no body: a body-less revokeSignInSessions sent as `application/octet-stream` gets 400
 * Request_BadRequest "A supported MIME type could not be found…" (docs/graph-facts.md#json-batching).
 * A write that carries a body without any `Content-Type` is refused too, 400 BadRequest: "Entity only
 * allows writes with a JSON Content-Type header." for a user create or update, "Unable to read JSON
 * request payload. Please ensure Content-Type header is set…" for an action
 * (docs/graph-facts.md#json-batching, "A single write with a body and no Content-Type"). Only a body-less write
 * may leave `Content-Type` out (revokeSignInSessions with `Content-Length: 0` works). The `$batch`
 * envelope is such an action: a POST whose body is the JSON batch (src/emulator/graph/batch.ts).
 */
export function assertJsonContentType(req: EmuRequest, template: string): void {
  if (req.method !== 'POST' && req.method !== 'PATCH' && req.method !== 'PUT') return;
  const raw = req.headers['content-type'];
  if (raw === undefined || raw.trim() === '') {
    if (req.body.length === 0) return;
    throw ENTITY_WRITE_TEMPLATES.has(template)
      ? new GraphError(400, 'BadRequest', 'Entity only allows writes with a JSON Content-Type header.')
      : new GraphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  }
  const mediaType = raw.split(';')[0]!.trim().toLowerCase();
  if (JSON_MEDIA_TYPES.includes(mediaType)) return;
  throw new GraphError(
    400,
    'Request_BadRequest',
    `A supported MIME type could not be found that matches the content type of the response. None of the supported type(s) 'application/json' matches the content type '${raw.trim().slice(0, 100)}'.`,
  );
}
