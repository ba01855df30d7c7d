import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBudgetBytes, callerBodyShareBytes } from '../../src/http/request-body.js';
import type { TestGateway } from '../support/gateway.js';
import { rawExchange } from '../support/raw-http.js';
import { GOOD_KEY as KEY, startKeyGuardedGateway } from '../support/key-guarded-gateway.js';

/**
 * A body refused by the shared body budget (429 REQUEST_BODIES_IN_FLIGHT) is not read: the request
 * pipelined behind it on the same connection must be read from its own first byte, or the
 * connection closed, never from inside the refused body (request smuggling). The refused body here
 * is itself a whole request; were it parsed as one, an answer would say `smuggled`. (The 413 and
 * 415 refusals: test/reliability/hostile-input.test.ts.)
 */
const MAX_BODY = 8_000_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A 64-byte body of KEY's caller: refused (429) once the hogs hold all but 32 bytes of its share. */
async function untilCallerShareIsFull(): Promise<void> {
  const body = JSON.stringify({ query: '{ probe: __typename }' }).padEnd(64, ' ');
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await fetch(`${gatewayUrl}/graphql`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body });
    await answer.arrayBuffer();
    if (answer.status === 429) return;
    if (Date.now() > deadline) throw new Error(`the hogs' bodies were not all read in 20 s (last answer ${answer.status})`);
    await sleep(100);
  }
}
let gatewayUrl = '';

describe('a body refused by the body budget', () => {
  let gw: TestGateway;
  let port: number;
  const hogs: Socket[] = [];
  beforeAll(async () => {
    gw = await startKeyGuardedGateway({ env: { MAX_BODY_BYTES: String(MAX_BODY) } });
    port = Number(new URL(gw.url).port);
    gatewayUrl = gw.url;
  }, 60_000);
  afterAll(async () => {
    for (const hog of hogs) hog.destroy();
    await gw.close();
  });

  it('leaves the next pipelined request to be read from its own first byte, or the connection closed', async () => {
    // Stalled bodies of an authenticated caller fill what it may hold to 32 bytes short of it: its
    // share of the budget (docs/security.md#request-bodies-per-caller), here one 8 MB body, so the
    // refusal below is of that share (reason CALLER_REQUEST_BODIES_IN_FLIGHT), the same refusal as
    // of the whole budget (REQUEST_BODIES_IN_FLIGHT), through the same code.
    const share = callerBodyShareBytes(MAX_BODY);
    expect(share).toBeLessThan(bodyBudgetBytes(MAX_BODY));
    const held = MAX_BODY - 1_000;
    const sizes: number[] = [];
    while (share - 32 - sizes.reduce((a, b) => a + b, 0) > held) sizes.push(held);
    sizes.push(share - 32 - sizes.reduce((a, b) => a + b, 0));
    expect(sizes.every((size) => size > 0 && size < MAX_BODY)).toBe(true);
    for (const size of sizes) {
      const hog = connect(port, '127.0.0.1');
      hog.on('error', () => undefined);
      hog.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\ncontent-type: application/json\r\ncontent-length: ${MAX_BODY}\r\n\r\n`);
      hog.write(Buffer.alloc(size, 0x20));
      hogs.push(hog);
    }
    // The hogs hold their bytes once the gateway has read them, which a busy machine may take a
    // while to do: wait until a small body of the same caller is refused, not for a fixed time.
    await untilCallerShareIsFull();

    const get = (name: string) =>
      `GET /graphql?query=${encodeURIComponent(`{ ${name}: __typename }`)} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\napollo-require-preflight: 1\r\n\r\n`;
    const smuggled = get('smuggled');
    const refused = `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\ncontent-type: application/json\r\ncontent-length: ${smuggled.length}\r\n\r\n${smuggled}`;
    const raw = await rawExchange(port, refused + get('next'), { quietMs: 1_500, encoding: 'utf8' });

    const answers = raw.split(/(?=HTTP\/1\.1 \d{3} )/).filter((a) => a.length > 0);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 429 /);
    expect(answers[0]).toContain('"reason":"CALLER_REQUEST_BODIES_IN_FLIGHT"');
    expect(raw).not.toContain('smuggled');
    // Either the connection closed after the refusal, or the next request got its own answer.
    for (const answer of answers.slice(1)) expect(answer).toContain('{"data":{"next":"Query"}}');
    expect(answers.length).toBeLessThanOrEqual(2);
  }, 30_000);
});
