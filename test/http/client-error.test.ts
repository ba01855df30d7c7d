import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { rawExchange } from '../support/raw-http.js';
import { GOOD_KEY as KEY, READ_QUERY, startKeyGuardedGateway } from '../support/key-guarded-gateway.js';

/**
 * Requests Node's HTTP parser refuses before any route sees them get the gateway's refusal shape
 * (status, `extensions.code` and `reason`, JSON, the baseline security headers) instead of Node's
 * bare status line, and the connection is closed (src/http/client-error.ts). Sent over raw sockets:
 * a client library would not send most of them.
 */
interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Every byte the server sent, until it closed the connection. */
  raw: string;
}

/** The last HTTP answer in `raw` (a kept-alive connection may carry an earlier one first). */
function lastAnswer(raw: string): RawAnswer {
  const start = raw.lastIndexOf('HTTP/1.1 ');
  const text = raw.slice(start);
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body, raw };
}

describe("requests Node's HTTP parser refuses", () => {
  let gw: TestGateway;
  let port: number;
  beforeAll(async () => {
    gw = await startKeyGuardedGateway();
    port = Number(new URL(gw.url).port);
  }, 60_000);
  afterAll(() => gw.close());

  const expectRefusal = (answer: RawAnswer, status: number, reason: string) => {
    expect(answer.status, answer.raw.slice(0, 300)).toBe(status);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['connection']).toBe('close');
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
    expect(JSON.parse(answer.body)).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', reason } }] });
  };

  it('a request target past 16 KB → 431 HEADERS_TOO_LARGE with a code, and the target is not echoed', async () => {
    const target = `/graphql?query=${'a'.repeat(100_000)}`;
    const answer = lastAnswer(await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\n\r\n`));
    expectRefusal(answer, 431, 'HEADERS_TOO_LARGE');
    expect(answer.raw).not.toContain('aaaaaaaa');
  });

  it('a malformed request line, and a body framed by both Content-Length and Transfer-Encoding → 400 MALFORMED_HTTP_REQUEST', async () => {
    expectRefusal(lastAnswer(await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n')), 400, 'MALFORMED_HTTP_REQUEST');
    const smuggled =
      'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `x-api-key: ${KEY}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`;
    expectRefusal(lastAnswer(await rawExchange(port, smuggled)), 400, 'MALFORMED_HTTP_REQUEST');
  });

  it('an HTTP/1.0 request carrying Transfer-Encoding → 400 MALFORMED_HTTP_REQUEST, its body not read as chunked', async () => {
    // Before: Node read the body as chunked and the query ran (200), though RFC 9112 §6.1 has such a
    // message's framing treated as faulty: a front end speaking HTTP/1.0 frames it another way.
    const body = JSON.stringify({ query: '{ __typename }' });
    const request =
      `POST /graphql HTTP/1.0\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const answer = lastAnswer(await rawExchange(port, request));
    expectRefusal(answer, 400, 'MALFORMED_HTTP_REQUEST');
    expect(answer.raw).not.toContain('__typename');
  });

  it('an Expect other than 100-continue → 417 UNSUPPORTED_EXPECTATION with the headers of every answer, on every route', async () => {
    // Before: Node answered it itself, before any route: a bare 417 without X-Content-Type-Options,
    // X-Frame-Options, CORP or a code.
    for (const target of ['/healthz', '/graphql', '/nope']) {
      const answer = lastAnswer(await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 200-ok\r\n\r\n`, { quietMs: 1_000 }));
      expectRefusal(answer, 417, 'UNSUPPORTED_EXPECTATION');
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['cross-origin-resource-policy']).toBe('same-origin');
    }
  });

  it('Expect: 100-continue: `100 Continue` only once the caller is authenticated and its body is to be read', async () => {
    // A stranger is refused without being asked for its body (before, Node sent `100 Continue` first).
    const stranger = await rawExchange(port, 'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n', {
      quietMs: 1_000,
    });
    expect(stranger).not.toContain('100 Continue');
    expect(lastAnswer(stranger).status).toBe(401);
    // An authenticated caller whose body is too large for the gateway: refused unread, not asked for it.
    const tooLarge = await rawExchange(
      port,
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 999999999\r\n\r\n`,
      { quietMs: 1_000 },
    );
    expect(tooLarge).not.toContain('100 Continue');
    expectRefusal(lastAnswer(tooLarge), 413, 'PAYLOAD_TOO_LARGE');
    // An authenticated caller is asked for its body, sends it after the interim answer, and is answered.
    const body = JSON.stringify({ query: '{ __typename }' });
    const raw = await rawExchange(
      port,
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      { then: { when: (received) => received.includes('100 Continue'), bytes: body } },
    );
    expect(raw.startsWith('HTTP/1.1 100 Continue'), raw.slice(0, 200)).toBe(true);
    expect(lastAnswer(raw).status).toBe(200);
    expect(raw).toContain('{"data":{"__typename":"Query"}}');
  });

  it('a malformed request after an answered one on a kept-alive connection is answered too, after the first answer', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const good = `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nx-api-key: ${KEY}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    // The first answer is complete: the same connection, kept alive, carries the malformed one.
    const raw = await rawExchange(port, good, {
      then: { when: (received) => received.includes('{"data":{"__typename":"Query"}}'), bytes: 'GET /graphql HTTP/1.1\r\nBad Header Without Colon\r\n\r\n' },
    });
    expect(raw.startsWith('HTTP/1.1 200 OK'), raw.slice(0, 400)).toBe(true);
    expectRefusal(lastAnswer(raw), 400, 'MALFORMED_HTTP_REQUEST');
  });

  it("a malformed request pipelined behind one still being served: no refusal in the earlier request's name, the connection closed", async () => {
    // Both in one write: the parser reads the second while the first is still being answered. A
    // raw 400 written then reads as the answer to the first request, which was well-formed and may
    // still run (a mutation): the caller would be told it was refused. Closing without an answer
    // leaves it in doubt instead, which is what it is.
    const first = `GET /graphql?query=${encodeURIComponent(READ_QUERY)} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\napollo-require-preflight: 1\r\n\r\n`;
    const raw = await rawExchange(port, `${first}GET /graphql HTTP/1.1\r\nBad Header Without Colon\r\n\r\n`);
    expect(raw).not.toContain('MALFORMED_HTTP_REQUEST');
    // Whatever was sent (nothing, or the first request's own answer) is the first request's.
    if (raw !== '') expect(raw.startsWith('HTTP/1.1 200 OK'), raw.slice(0, 300)).toBe(true);
  });

  it('the gateway serves as before afterwards', async () => {
    const answer = await gw.graphql(READ_QUERY, undefined, { 'x-api-key': KEY });
    expect(answer.status).toBe(200);
    expect(answer.data?.users.nodes).toHaveLength(1);
  });
});

describe('a request that times out on a kept-alive connection', () => {
  let gw: TestGateway;
  let port: number;
  beforeAll(async () => {
    // The request timeout is OPERATION_TIMEOUT_MS + 5 s: 5.1 s here.
    gw = await startKeyGuardedGateway({ env: { OPERATION_TIMEOUT_MS: '100' } });
    port = Number(new URL(gw.url).port);
  }, 60_000);
  afterAll(() => gw.close());

  it(
    'the second request of a connection, its body stalled, gets its own 408 after the first answer, or the connection closes',
    { timeout: 20_000 },
    async () => {
      // Before, only the first request of a connection got the 408: on a later one the connection was
      // cut without an answer (bytes had been written on it, and a response was attached: the stalled
      // request's own, which had sent nothing). Node's keep-alive timer of the first response (5 s and
      // a 1 s buffer) is sometimes still armed when the second request starts, and then closes the
      // connection before the request timeout (5.1 s, checked every second) answers: seen in about one
      // run in four with other test files beside this one. Either way nothing is answered in another
      // request's name, and an answer that comes is the 408 with its code.
      const first = `GET /graphql?query=${encodeURIComponent(READ_QUERY)} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\napollo-require-preflight: 1\r\n\r\n`;
      const stalled = `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":`;
      const raw = await rawExchange(port, first, { timeoutMs: 15_000, then: { when: (received) => received.includes('"nodes":['), bytes: stalled } });
      expect(raw.startsWith('HTTP/1.1 200 OK'), raw.slice(0, 400)).toBe(true);
      const answers = raw.split('HTTP/1.1 ').length - 1;
      expect([1, 2]).toContain(answers);
      if (answers === 2) {
        const answer = lastAnswer(raw);
        expect(answer.status).toBe(408);
        expect(answer.headers['connection']).toBe('close');
        expect(JSON.parse(answer.body)).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', reason: 'REQUEST_TIMEOUT' } }] });
      }
    },
  );
});
