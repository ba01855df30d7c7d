import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import type { TestGateway } from '../support/gateway.js';
import { startHostedGatewayBehindRelayingBroker, type HostedGatewayBehindBroker } from '../support/relaying-broker.js';

/**
 * The hosted broker names each of its answers with a `function-execution-id` header, which the
 * gateway logs beside the answer so an operator can quote it to the broker's operator. The header
 * is the broker's text like its body, whose messages are scrubbed of the registration Token and of
 * anything token-shaped (docs/security.md#the-broker-token-is-a-secret). Here the broker (compromised,
 * or a debugging build) writes into that header the Graph token it answers, or BROKER_TOKEN itself:
 * production configuration, real sockets, the log at debug level as an operator sets it to trace a
 * token problem.
 */
const READER_KEY = 'execution-id-reader-key-0123456789abcdef';

let emulator: TestEmulator;
let hosted: HostedGatewayBehindBroker;
let gw: TestGateway;
/** What the broker writes into the header: the access token it answers, or a fixed text. */
let executionId: (accessToken: string) => string = () => 'f0e1d2c3-b4a5-4697-8899-aabbccddeeff';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 5 });
  // The emulator's broker's answer as it is, with the header written from its token.
  hosted = await startHostedGatewayBehindRelayingBroker(emulator, {
    callers: { reader: { key: READER_KEY, permissions: ['Users.Read'] } },
    answer: ({ text }) => {
      const token = String((JSON.parse(text) as { access_token?: unknown }).access_token ?? '');
      return { text, headers: { 'function-execution-id': executionId(token) } };
    },
  });
  gw = hosted.gateway;
}, 60_000);

afterAll(async () => {
  await hosted?.close();
  await emulator?.close();
});

describe("the broker's function-execution-id in the gateway's log", () => {
  it('an id is logged as the broker sent it', async () => {
    const result = await gw.graphql('{ users(first: 2) { nodes { id } } }', undefined, { 'x-api-key': READER_KEY });
    expect(result.errors).toBeUndefined();
    const answered = gw.logRecords('broker answered');
    expect(answered.at(-1)?.functionExecutionId).toBe('f0e1d2c3-b4a5-4697-8899-aabbccddeeff');
  });

  it('one holding the Graph token it answered, or BROKER_TOKEN, is not logged', async () => {
    const tokens: string[] = [];
    for (const write of [(token: string) => (tokens.push(token), token), () => gw.config.hosted!.token.reveal()]) {
      executionId = write;
      gw.identity.tokenSourceFor({ kind: 'anonymous', permissions: new Set() }).invalidate?.();
      const before = gw.logLines.length;
      const result = await gw.graphql('{ users(first: 2) { nodes { id } } }', undefined, { 'x-api-key': READER_KEY });
      expect(result.errors).toBeUndefined();
      const lines = gw.logLines.slice(before);
      expect(lines.some((line) => line.includes('"broker answered"'))).toBe(true);
      for (const line of lines) {
        for (const token of tokens) expect(line).not.toContain(token.split('.')[2]!.slice(0, 40));
        expect(line.toLowerCase()).not.toContain(gw.config.hosted!.token.reveal().toLowerCase());
      }
    }
    expect(tokens).toHaveLength(1);
  });
});
