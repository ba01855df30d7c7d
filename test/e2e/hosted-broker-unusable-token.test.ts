import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import type { TestGateway } from '../support/gateway.js';
import { startHostedGatewayBehindRelayingBroker, type HostedGatewayBehindBroker } from '../support/relaying-broker.js';

/**
 * A hosted broker that answers an access token the gateway cannot send: a genuine Graph token with
 * CR/LF and a header after it, or with a space inside. Before, the gateway cached it for its
 * `expires_in` (an hour), and every Graph call of that hour failed locally (undici refuses the
 * `Authorization` header), long after the broker answered well again. Now the answer is refused where
 * it arrives (docs/security.md#the-broker-answers-for-one-tenant), never cached, and the next
 * acquisition asks the broker again. Production configuration, real sockets, the emulator's broker
 * behind a relay that spoils its answer while `spoil` is set.
 */
const READER_KEY = 'unusable-token-reader-key-0123456789';
const INJECTED = 'x-injected-by-broker';

let emulator: TestEmulator;
let hosted: HostedGatewayBehindBroker;
let gw: TestGateway;
let spoil: ((token: string) => string) | null = null;
let asked = 0;
const spoiled: string[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 10 });
  hosted = await startHostedGatewayBehindRelayingBroker(emulator, {
    callers: { reader: { key: READER_KEY, permissions: ['Users.Read'] } },
    answer: ({ text }) => {
      asked += 1;
      const body = JSON.parse(text) as Record<string, unknown>;
      if (!spoil || typeof body.access_token !== 'string') return { text };
      body.access_token = spoil(body.access_token);
      spoiled.push(body.access_token as string);
      return { text: JSON.stringify(body) };
    },
  });
  gw = hosted.gateway;
}, 60_000);

afterAll(async () => {
  await hosted?.close();
  await emulator?.close();
});

const QUERY = '{ users(first: 3) { nodes { id } } }';

/** Asks until the acquisition's back-off (1 s after one failure, 2 s after two) lets the broker be asked again. */
async function servedOnceTheBrokerIsAskedAgain(): Promise<{ data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const result = await gw.graphql(QUERY, undefined, { 'x-api-key': READER_KEY });
    if (result.errors?.[0]?.extensions?.code !== 'UPSTREAM_UNAVAILABLE' || Date.now() > deadline) return result;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a hosted broker answering an access token that is not a bearer token', () => {
  it('is refused as UPSTREAM_ERROR each time it is answered, nothing sent to Graph, not logged, and not cached', async () => {
    const linesBefore = gw.logLines.length;
    await emulator.resetStats();
    // The gateway holds no token yet: each answer below is one it has to take or refuse.
    for (const how of [(token: string) => `${token}\r\n${INJECTED}: 1`, (token: string) => `${token.slice(0, 20)} ${token.slice(20)}`]) {
      spoil = how;
      const before = asked;
      // The second waits out the back-off of the first: a token cached from the first would be used instead.
      const refused = await servedOnceTheBrokerIsAskedAgain();
      expect(asked).toBe(before + 1);
      expect(refused.data?.users ?? null).toBeNull();
      expect(refused.errors?.[0]?.extensions?.code).toBe('UPSTREAM_ERROR');
      expect(refused.errors?.[0]?.message).toMatch(/not a usable bearer token; it was not used/);
    }
    expect((await emulator.stats()).graphRequests).toBe(0);
    expect(
      gw.logRecords(
        'the hosted broker answered with an access token that cannot be sent as a bearer token (a character outside RFC 6750 b64token); refused, nothing sent to Graph',
      ),
    ).toHaveLength(2);
    // The broker answers well again: past the back-off the next call asks it and is served (a cached
    // token would keep failing until its expires_in, an hour).
    spoil = null;
    const served = await servedOnceTheBrokerIsAskedAgain();
    expect(served.errors).toBeUndefined();
    expect(served.data.users.nodes).toHaveLength(3);
    // Nothing of the refused values is in any line: not the token, not the header it carried.
    expect(spoiled).toHaveLength(2);
    for (const token of spoiled) {
      const signature = token
        .replace(/[\r\n].*$/s, '')
        .split('.')
        .at(-1)!;
      expect(signature.length).toBeGreaterThan(20);
      for (const line of gw.logLines.slice(linesBefore)) {
        expect(line).not.toContain(signature);
        expect(line).not.toContain(INJECTED);
      }
    }
  }, 90_000);
});
