import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '../errors.js';
import { BASELINE_SECURITY_HEADERS } from './security-headers.js';

/**
 * The answer to a request Node's HTTP parser refused before any route saw it: a request target or
 * headers past the 16 KB limit, a malformed request line or header, a body framing Node will not
 * read (both Content-Length and Transfer-Encoding), headers that took too long. Node's default
 * answer is a bare status line with no body, so the caller got a 431 or 400 without a code, unlike
 * every other refusal of the gateway (docs/reliability.md#operation-limits). The status follows
 * Node's own choice (431 for oversized headers, 413 for an oversized chunk extension, 408 for a
 * timeout, 400 otherwise); the body is the same `errors[].extensions.code`/`reason` shape, and the
 * connection is closed, since the parser cannot say where the next request would start.
 *
 * A malformed request pipelined behind one still being served is not answered: the parser reads
 * ahead, so the answer would go out first and read as the answer to the earlier request, which was
 * well-formed and may still run (a mutation), telling its caller it was refused. The connection is
 * closed without an answer instead, which leaves that request in doubt, as it is. (Node's default,
 * and this handler before, answered 400 there.)
 *
 * Nothing of the request is echoed (Node's error names the parser's step, never the bytes), and
 * nothing is logged: anyone can send these as often as a connection allows.
 */
const REFUSALS: Record<string, { status: number; text: string; reason: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    text: 'Request Header Fields Too Large',
    reason: 'HEADERS_TOO_LARGE',
    message: 'The request target and headers are larger than 16 KB; send a long query as a POST body.',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    text: 'Payload Too Large',
    reason: 'CHUNK_EXTENSIONS_TOO_LARGE',
    message: 'The chunk extensions of the request body are too large.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    text: 'Request Timeout',
    reason: 'REQUEST_TIMEOUT',
    message: 'The request was not received in time.',
  },
};
const MALFORMED = {
  status: 400,
  text: 'Bad Request',
  reason: 'MALFORMED_HTTP_REQUEST',
  message: 'The request is not well-formed HTTP: its request line, a header or its body framing.',
};

export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Answered between two requests (no response attached), or in the name of the request still
    // being received (its own timeout, its own broken body framing); never into a response already
    // under way, never in the name of an earlier request that was received whole (the error is a
    // pipelined request's), nor on a connection that is gone.
    const conn = socket as Socket & { _httpMessage?: ServerResponse | null };
    const pending = conn._httpMessage;
    const canAnswer = !pending || (!pending.headersSent && !pending.req.complete);
    if (error.code === 'ECONNRESET' || !socket.writable || !canAnswer) {
      socket.destroy();
      return;
    }
    const refusal = REFUSALS[error.code ?? ''] ?? MALFORMED;
    const body = JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: ErrorCode.BAD_USER_INPUT, reason: refusal.reason } }] });
    const headers = {
      ...BASELINE_SECURITY_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      connection: 'close',
    };
    const head = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    // Closed once written, as Node's default does: a client that never reads holds nothing.
    socket.end(`HTTP/1.1 ${refusal.status} ${refusal.text}\r\n${head}\r\n${body}`, () => socket.destroy());
  });
}
