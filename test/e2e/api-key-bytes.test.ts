import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * An API key is compared by the bytes that arrived (docs/identity.md, caller authentication). HTTP
 * header values are bytes; Node hands them over as latin1 text, and the gateway hashed that text as
 * UTF-8, so a key typed with a character outside ASCII (hashed as its UTF-8 bytes by `printf %s
 * "$KEY" | sha256sum`, as the docs say) could never match.
 */
const KEY = 'clé-d’accès-🔑-0123456789';

describe('API keys outside ASCII', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { ...apiKeyCallers({ soar: { key: KEY, permissions: ['Users.Read'] } }), AUTH_FAILURE_LIMIT: '1000' } });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
  });

  /**
   * POST /graphql with these bytes as the x-api-key value, as curl sends what was typed. Written on
   * a plain socket: Node's HTTP client would re-encode a header's latin1 text as UTF-8.
   */
  const postWithKeyBytes = (bytes: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' });
      const url = new URL(gw.url);
      const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
        socket.write(
          Buffer.concat([
            Buffer.from(
              `POST /graphql HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\nx-api-key: `,
            ),
            bytes,
            Buffer.from(`\r\n\r\n${body}`),
          ]),
        );
      });
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
      socket.on('error', reject);
    });

  it('accepts the key sent as its UTF-8 bytes and refuses other bytes', async () => {
    expect(await postWithKeyBytes(Buffer.from(KEY, 'utf8'))).toBe(200);
    // The same key's bytes encoded twice (what the old comparison effectively expected) are another key.
    expect(await postWithKeyBytes(Buffer.from(Buffer.from(KEY, 'utf8').toString('latin1'), 'utf8'))).toBe(401);
    expect(await postWithKeyBytes(Buffer.from('clé-d’accès-🔑-0123456780', 'utf8'))).toBe(401);
  });
});
