import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, fetch as undiciFetch } from 'undici';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

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
let gw: TestGateway;
let broker: Server;
let dispatcher: Agent;
/** What the broker writes into the header: the access token it answers, or a fixed text. */
let executionId: (accessToken: string) => string = () => 'f0e1d2c3-b4a5-4697-8899-aabbccddeeff';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 5 });
  dispatcher = new Agent({ connect: { ca: emulator.caCertPem } });
  // Relays the gateway's token request to the emulator's broker, and answers with its answer.
  broker = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const answer = await undiciFetch(emulator.brokerUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: Buffer.concat(chunks).toString('utf8'),
          dispatcher,
        });
        const text = await answer.text();
        const token = String((JSON.parse(text) as { access_token?: unknown }).access_token ?? '');
        res.writeHead(answer.status, { 'content-type': 'application/json', 'function-execution-id': executionId(token) });
        res.end(text);
      })();
    });
  });
  await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
  const brokerUrl = `http://127.0.0.1:${(broker.address() as AddressInfo).port}/obtain-token`;
  gw = await startTestGateway({
    emulator,
    env: {
      NODE_ENV: 'production',
      INTROSPECTION: '',
      DEPLOYMENT_MODE: 'hosted',
      ...apiKeyCallers({ reader: { key: READER_KEY, permissions: ['Users.Read'] } }),
    },
    configure: (config) => ({ ...config, hosted: { ...config.hosted!, brokerUrl } }),
  });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await new Promise((resolve) => broker?.close(resolve));
  await dispatcher?.close();
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
