import type { Caller } from '../identity/types.js';
import { auditCaller, auditOperationName, type AuditEvent } from './event.js';
import type { AuditLog } from './log.js';
import { unparsedMutationOf } from './unparsed-mutation.js';

/**
 * The audit event of a mutation attempt refused before Apollo ran it or before Apollo parsed it
 * (docs/security.md#audit-of-refused-requests): variables nested too deep, a cross-site request, a
 * mutation sent by GET, an unknown operationName, a syntax error, a caller refused at
 * authentication or by the failed-authentication limit when the document came in the query string.
 * The document is read only by src/audit/unparsed-mutation.ts (one bounded pass); of it the event
 * keeps only mutation field names the schema has and the operation's name under the rule every
 * event follows (auditOperationName, src/audit/event.ts); no target, no input. The request's own
 * `operationName` (JSON, any text) only picks the definition and is never written.
 */

/**
 * The `operation` of the event of an unparsed or unrun mutation document that selected several
 * mutation fields (listed in `mutationFields`). Not a field name of the schema, so a SIEM cannot take
 * it for one.
 */
export const UNPARSED_DOCUMENT_OPERATION = 'document';

/** Our own reason codes (`PAYLOAD_TOO_LARGE`, `VARIABLES_TOO_DEEP`, ...), never anything else. */
const REASON_DETAIL = /^[A-Z][A-Z_]{0,63}$/;

export interface RefusedRequest {
  /**
   * The GraphQL documents the gateway holds (a POST body's `query`, each of a batch, or a GET's
   * `query`), each with the `operationName` the request gave for it (only compared with the
   * document's definitions); none when the body was not read.
   */
  documents: ReadonlyArray<{ document: string; operationName: unknown }>;
  /** The public error code the caller is answered (src/errors.ts). */
  code: string;
  /** The `reason` extension of the answer, when the gateway set one. */
  reasonDetail?: unknown;
  /** The HTTP status of the answer, when known. */
  httpStatus?: number;
  /** The authenticated caller; absent when the request was refused before authentication. */
  caller: Caller | undefined;
  /** The client address (src/http/client-address.ts); written only when the caller is not known. */
  clientAddress: string | undefined;
  correlationId: string | undefined;
}

/**
 * Writes one `refused` event when the document asks for a mutation selecting at least one mutation
 * field of the schema (a document naming none could not have done anything, as for documents
 * Apollo refuses: src/audit/plugin.ts); returns it, or nothing when none was written.
 */
export function auditRefusedRequest(log: AuditLog, mutationFields: ReadonlySet<string>, refused: RefusedRequest): AuditEvent | undefined {
  const fields: string[] = [];
  // The name the document gave its mutation; a batch whose mutations are named differently keeps none.
  const names = new Set<string | undefined>();
  // A mutation the reader could not follow to its end (past its bounds) may select any mutation
  // field: audited as the worst case, an event even when no field of the schema was found.
  let incomplete = false;
  for (const { document, operationName } of refused.documents) {
    const mutation = unparsedMutationOf(document, typeof operationName === 'string' ? operationName : undefined);
    for (const field of mutation?.rootFields ?? []) if (mutationFields.has(field) && !fields.includes(field)) fields.push(field);
    if (mutation?.incomplete || mutation?.rootFields.some((f) => mutationFields.has(f))) names.add(mutation.operationName);
    if (mutation?.incomplete) incomplete = true;
  }
  if (fields.length === 0 && !incomplete) return undefined;
  const detail = typeof refused.reasonDetail === 'string' && REASON_DETAIL.test(refused.reasonDetail) ? refused.reasonDetail : undefined;
  return log.emit({
    operation: fields.length === 1 && !incomplete ? fields[0]! : UNPARSED_DOCUMENT_OPERATION,
    ...(fields.length > 1 || incomplete ? { mutationFields: fields } : {}),
    ...(incomplete ? { mutationFieldsIncomplete: true as const } : {}),
    operationName: names.size === 1 ? auditOperationName([...names][0]) : null,
    outcome: 'refused',
    reason: refused.code,
    ...(detail ? { reasonDetail: detail } : {}),
    ...(refused.httpStatus ? { httpStatus: refused.httpStatus } : {}),
    caller: auditCaller(refused.caller),
    ...(refused.caller === undefined && refused.clientAddress ? { clientAddress: refused.clientAddress } : {}),
    steps: [],
    requestIds: [],
    ...(refused.correlationId ? { correlationId: refused.correlationId } : {}),
  });
}
