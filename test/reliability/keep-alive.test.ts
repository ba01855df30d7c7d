import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * A response sent before the request body was read (413 on a chunked body, 405 with a body) must
 * not leave the unread bytes on a kept-alive socket: before the fix the next request on that socket
 * got ECONNRESET. Real keep-alive agent, one socket, production configuration.
 */
describe('keep-alive after a response that did not read the body', () => {
  let gw: TestGateway;
  let agent: Agent;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { NODE_ENV: 'production', SANDBOX: 'true', MAX_BODY_BYTES: '4096' } });
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
  }, 60_000);
  afterAll(async () => {
    agent.destroy();
    await gw.close();
  });

  const post = (method: string, chunks: Buffer[] | string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const url = new URL(gw.url);
      const req = request(
        { host: url.hostname, port: url.port, path: '/graphql', method, agent, headers: { 'content-type': 'application/json', ...headers } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
        },
      );
      req.on('error', reject);
      if (typeof chunks === 'string') req.end(chunks);
      else {
        // No content-length: Node sends the body chunked.
        for (const chunk of chunks) req.write(chunk);
        req.end();
      }
    });
  const small = () => post('POST', JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }));

  it('a 413 on a chunked body says Connection: close, and the next request on the agent succeeds', async () => {
    expect((await small()).status).toBe(200);
    const tooLarge = await post(
      'POST',
      Array.from({ length: 40 }, () => Buffer.alloc(16 * 1024, 'a')),
    );
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.connection).toBe('close');
    expect(JSON.parse(tooLarge.body).errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'PAYLOAD_TOO_LARGE' });
    const next = await small();
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body).data.users.nodes).toHaveLength(1);
  });

  it('a 413 from a declared Content-Length closes too', async () => {
    const body = 'x'.repeat(64 * 1024);
    const tooLarge = await post('POST', body, { 'content-length': String(body.length) });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.connection).toBe('close');
    expect((await small()).status).toBe(200);
  });

  it('a 405 with an unread body closes; a normal answer keeps the connection', async () => {
    const refused = await post('PUT', [Buffer.alloc(2048, 'b'), Buffer.alloc(2048, 'b')]);
    expect(refused.status).toBe(405);
    expect(refused.connection).toBe('close');
    const ok = await small();
    expect(ok.status).toBe(200);
    expect(ok.connection).toBe('keep-alive');
  });

  it('answers to requests without a body keep the connection: /healthz, a 404, a GET query, probes one after another on one socket', async () => {
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined; socket: unknown }>((resolve, reject) => {
        const url = new URL(gw.url);
        // A GET query carries Apollo's CSRF-prevention header, as a non-browser client does.
        const req = request({ host: url.hostname, port: url.port, path, agent, headers: { 'apollo-require-preflight': 'true' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, socket: req.socket }));
        });
        req.on('error', reject);
        req.end();
      });
    // Before: a GET answered in the handler's own turn always got Connection: close.
    const answers = [];
    for (const path of ['/healthz', '/healthz', '/nope', `/graphql?query=${encodeURIComponent('{ __typename }')}`, '/healthz']) answers.push(await get(path));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 200, 200]);
    for (const answer of answers) expect(answer.connection).toBe('keep-alive');
    // One socket carried them all.
    expect(new Set(answers.map((a) => a.socket)).size).toBe(1);
  });
});
