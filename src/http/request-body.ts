import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { ErrorCode, GatewayError } from '../errors.js';
import { HttpProblem } from './http-problem.js';
import { parseMediaType } from './media-type.js';
import { createSharedBudget, type CallerShare, type RefusedOutcome, type SharedBudget } from '../caller-shares.js';

/**
 * Request bodies buffered at once, across all requests. Each body is capped (MAX_BODY_BYTES), but a
 * caller that opens many connections and sends nearly a whole body on each, then stalls, makes the
 * process hold all of them until the request timeout: 600 such connections held ~575 MB outside the
 * V8 heap (test/reliability/memory-bounds.test.ts), past any container limit. Past this budget a
 * request is refused (429, `Retry-After`) instead of being read further. Bytes are counted as they
 * arrive, not as declared: reserving a declared Content-Length up front let 34 connections that
 * each declared 1 MB, sent one byte and stalled (7 KB of traffic) hold the whole budget, and every
 * other caller's POST was refused until the request timeout.
 *
 * One caller's bodies hold at most its share of the budget (`callerBodyShareBytes`): bodies are read
 * only once their caller authenticated, but any credential did, and one caller (an API key holding
 * only Users.Read, an Entra app of the tenant holding no role of the API) stalling ~33 bodies of
 * 1 MB held the whole budget, so every other caller's POST was refused for as long as it kept them
 * open (docs/security.md#request-bodies-per-caller, test/http/body-budget-per-caller.test.ts).
 * Counted in bytes, by the shared budget of src/caller-shares.ts.
 */
export type BodyBudget = CallerShare;

/** At least this much, and room for a few bodies of the largest size allowed. */
export function bodyBudgetBytes(maxBodyBytes: number): number {
  return Math.max(32 * 2 ** 20, 4 * maxBodyBytes);
}

/**
 * What one caller's bodies may hold at once: an eighth of the budget (4 MiB by default, so it
 * takes eight callers to fill it), and never less than one body of the largest size allowed.
 */
export function callerBodyShareBytes(maxBodyBytes: number): number {
  return Math.max(maxBodyBytes, Math.floor(bodyBudgetBytes(maxBodyBytes) / 8));
}

export function createBodyBudget(maxBytes: number, perCallerBytes: number = maxBytes, onRefused?: (outcome: RefusedOutcome) => void): SharedBudget {
  return createSharedBudget({ max: maxBytes, perCaller: perCallerBytes, ...(onRefused ? { onRefused } : {}) });
}

/**
 * A body this gateway would misread, refused before a byte of it is read (RFC 9110 §15.5.16: 415).
 * A compressed body was parsed as text and answered "not valid JSON", which sent the caller looking
 * at its JSON; a body declared in another charset than UTF-8 was decoded as UTF-8 anyway, so a name
 * such as "Müller" in a filter sent as Latin-1 reached Graph as mojibake. JSON exchanged between
 * systems is UTF-8 (RFC 8259 §8.1), and no client of this API needs to compress a query, so both
 * are refused with what to send instead. The charset is read from the parsed media type
 * (src/http/media-type.ts), so only a `charset` parameter counts, not the text `charset=` inside
 * another parameter's quoted value. A `Content-Type` that is not a media type, or that gives a
 * parameter twice, is refused with 400 INVALID_CONTENT_TYPE: which charset it declares cannot be
 * told, and a proxy in front may read it otherwise (it took the first `charset` of two before).
 */
export function unreadableBodyProblem(headers: IncomingHttpHeaders): HttpProblem | undefined {
  // A transfer coding is the same misreading one layer down, and Node does not decode one either: it
  // frames the body by the final `chunked` and hands the coded bytes on as they are. A gzip body
  // sent as `Transfer-Encoding: gzip, chunked` was answered "not valid JSON", and one declared
  // `deflate, chunked` but sent plain was read as JSON, so a proxy or WAF in front that decodes the
  // coding judged a different body than the one run. RFC 9112 §6.1 suggests 501 for a coding not
  // understood; a 415 like the content coding's keeps it a caller's mistake (a client retries a 5xx).
  const transfer = headers['transfer-encoding'];
  if (transfer !== undefined && transfer.trim().toLowerCase() !== 'chunked') {
    return new HttpProblem(
      415,
      ErrorCode.BAD_USER_INPUT,
      'The request body must not carry a transfer coding other than chunked: send it with Transfer-Encoding: chunked or a Content-Length.',
      'UNSUPPORTED_TRANSFER_CODING',
    );
  }
  const encoding = (headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    return new HttpProblem(
      415,
      ErrorCode.BAD_USER_INPUT,
      'The request body must not be compressed: send it without Content-Encoding.',
      'UNSUPPORTED_CONTENT_ENCODING',
      { 'accept-encoding': 'identity' },
    );
  }
  const header = headers['content-type'];
  // No Content-Type at all is Apollo's to answer (its CSRF check refuses it with 400).
  if (header === undefined || header.trim() === '') return undefined;
  const mediaType = parseMediaType(header);
  if (mediaType.kind === 'malformed') {
    return new HttpProblem(
      400,
      ErrorCode.BAD_USER_INPUT,
      'The Content-Type header is not a media type (RFC 9110 §8.3): send Content-Type: application/json; charset=utf-8.',
      'INVALID_CONTENT_TYPE',
    );
  }
  if (mediaType.kind === 'repeated') {
    return new HttpProblem(
      400,
      ErrorCode.BAD_USER_INPUT,
      // The name is a token (the grammar held), but the caller's: named only when short.
      `The Content-Type header gives ${mediaType.parameter.length <= 32 ? `the ${mediaType.parameter} parameter` : 'a parameter'} more than once; give each once: Content-Type: application/json; charset=utf-8.`,
      'INVALID_CONTENT_TYPE',
    );
  }
  const charset = mediaType.parameters.charset?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return new HttpProblem(
      415,
      ErrorCode.BAD_USER_INPUT,
      'The request body must be UTF-8: send Content-Type: application/json; charset=utf-8.',
      'UNSUPPORTED_CHARSET',
    );
  }
  return undefined;
}

/** The caller closed the connection before its body ended: there is nobody to answer. */
export class ClientClosedError extends Error {
  constructor() {
    super('the request body ended early: the connection closed');
    this.name = 'ClientClosedError';
  }
}

function busy(): GatewayError {
  return new GatewayError(ErrorCode.THROTTLED, 'The gateway is receiving too many request bodies at once; retry in a moment.', {
    retryAfterSeconds: 1,
    reason: 'REQUEST_BODIES_IN_FLIGHT',
  });
}

/** This caller's bodies being read already hold its share of the budget: its own requests wait, nobody else's. */
function callerBusy(): GatewayError {
  return new GatewayError(
    ErrorCode.THROTTLED,
    'The gateway is receiving too many request bodies from these credentials at once; finish or close those requests, then retry.',
    { retryAfterSeconds: 1, reason: 'CALLER_REQUEST_BODIES_IN_FLIGHT' },
  );
}

/**
 * Reads the body up to `limit` bytes within the shared `budget`; JSON bodies are parsed (Apollo
 * wants an object). Throws HttpProblem (413, 400), GatewayError THROTTLED (budget spent) or
 * ClientClosedError. `beforeReading` runs once the body is to be read, after the checks that
 * refuse it unread (the `100 Continue` of a client that waits for one: src/server.ts).
 */
export async function readBody(req: IncomingMessage, limit: number, budget: BodyBudget, beforeReading?: () => void): Promise<unknown> {
  const unreadable = unreadableBodyProblem(req.headers);
  if (unreadable) {
    req.resume();
    throw unreadable;
  }
  const declared = Number(req.headers['content-length']);
  const tooLarge = () => new HttpProblem(413, ErrorCode.BAD_USER_INPUT, `The request body is larger than ${limit} bytes.`, 'PAYLOAD_TOO_LARGE');
  const hasDeclared = req.headers['content-length'] !== undefined && Number.isFinite(declared) && declared >= 0;
  if (hasDeclared && declared > limit) {
    req.resume();
    throw tooLarge();
  }
  let reserved = 0;
  let text: string;
  beforeReading?.();
  try {
    text = await new Promise<string>((resolve, reject) => {
      // Events rather than `for await`: the stream's async iterator is a measurable share of a small
      // operation's CPU, and a body that fits one chunk (most do) needs no copy. The listeners stay
      // (removing them costs more than the finished request keeping them); `settled` mutes them.
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      req.on('data', (chunk: Buffer) => {
        if (settled) return;
        size += chunk.length;
        if (size > limit) {
          req.resume();
          fail(tooLarge());
          return;
        }
        const taken = budget.reserve(chunk.length);
        if (taken !== 'taken') {
          req.resume();
          fail(taken === 'share-spent' ? callerBusy() : busy());
          return;
        }
        reserved += chunk.length;
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (settled) return;
        settled = true;
        resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8'));
      });
      // The caller went away before the body ended (no 'error' is guaranteed then). 'close' also
      // follows every finished body: an error (and its stack) only when it is one.
      const closedEarly = () => {
        if (!settled) fail(new ClientClosedError());
      };
      req.on('error', closedEarly);
      req.on('close', closedEarly);
    });
  } finally {
    budget.release(reserved);
  }
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.includes('json')) return text;
  if (text.trim() === '') throw new HttpProblem(400, ErrorCode.BAD_USER_INPUT, 'The request body is empty; send {"query": "..."}.', 'EMPTY_BODY');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpProblem(400, ErrorCode.BAD_USER_INPUT, 'The request body is not valid JSON.', 'INVALID_JSON');
  }
}
