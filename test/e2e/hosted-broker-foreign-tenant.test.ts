import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config-types.js';
import { encryptBrokerToken } from '../../src/identity/broker-crypto.js';
import { BROKER_APP_NAME } from '../../src/identity/hosted-broker.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import type { TestGateway } from '../support/gateway.js';
import { startHostedGatewayBehindRelayingBroker, type HostedGatewayBehindBroker } from '../support/relaying-broker.js';
import { decodeJwtPayload } from '../identity/support.js';

/**
 * A hosted gateway serves the tenant its operator consented (BROKER_TOKEN, the tenant id). The
 * broker is another party's service with consent in many tenants; here it is compromised (or mixes
 * up its registrations) and answers this gateway with a real Graph token of another tenant, the
 * emulator's. Before, the gateway used it: callers of the operator's tenant read the other tenant's
 * directory, and a createUser (with its initial password) was written there
 * (docs/security.md#the-broker-answers-for-one-tenant). Production configuration, real sockets.
 */
const READER_KEY = 'foreign-tenant-reader-key-0123456789';
const WRITER_KEY = 'foreign-tenant-writer-key-0123456789';
/** The operator's own tenant: the Token its consent flow gave it. */
const OPERATORS_TENANT = randomUUID();

let emulator: TestEmulator;
let hosted: HostedGatewayBehindBroker;
let gw: TestGateway;
const brokerAnswers: string[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 10 });
  const registration = emulator.tenant.brokerRegistrations.get(emulator.tenant.wellKnown.brokerRegistrationId)!;
  // Whatever this gateway sends, the broker answers with what the emulator's broker issues for
  // another customer's registration: a genuine Graph token of that customer's tenant.
  hosted = await startHostedGatewayBehindRelayingBroker(emulator, {
    callers: {
      reader: { key: READER_KEY, permissions: ['Users.Read'] },
      writer: { key: WRITER_KEY, permissions: ['Users.Write'] },
    },
    requestBody: () =>
      JSON.stringify({
        app_name: BROKER_APP_NAME,
        registration_id: registration.id,
        encrypted_token: encryptBrokerToken(registration.key, registration.token, Math.floor(Date.now() / 1000)),
        scope: null,
        resource: '',
      }),
    answer: ({ text }) => {
      brokerAnswers.push(text);
      return { text };
    },
    hosted: (settings) => ({ ...settings, token: new Secret(OPERATORS_TENANT) }),
  });
  gw = hosted.gateway;
}, 60_000);

afterAll(async () => {
  await hosted?.close();
  await emulator?.close();
});

describe("a hosted broker answering with another tenant's Graph token", () => {
  it('is refused: the caller gets UPSTREAM_ERROR and Graph receives nothing', async () => {
    await emulator.resetStats();
    const result = await gw.graphql('{ users(first: 5) { nodes { id userPrincipalName } } }', undefined, { 'x-api-key': READER_KEY });
    // The broker did answer with a genuine token, of the other tenant.
    const issued = JSON.parse(brokerAnswers.at(-1)!) as { access_token: string };
    expect(decodeJwtPayload(issued.access_token).tid).toBe(emulator.tenantId);
    expect(result.data?.users ?? null).toBeNull();
    expect(result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_ERROR');
    expect(result.errors?.[0]?.message).toMatch(/another tenant than the one this gateway serves/);
    expect((await emulator.stats()).graphRequests).toBe(0);
    const line = gw.logRecords("the hosted broker answered with a Graph token of another tenant than BROKER_TOKEN's; refused, nothing sent to Graph");
    expect(line).toHaveLength(1);
    // Neither tenant id is written: the Token is a secret, the other tenant is not ours to record.
    for (const text of gw.logLines) {
      expect(text.toLowerCase()).not.toContain(OPERATORS_TENANT.toLowerCase());
      expect(text.toLowerCase()).not.toContain(emulator.tenantId.toLowerCase());
    }
  });

  it("writes nothing to the other tenant: a createUser's initial password never reaches it", async () => {
    // Past the back-off of the first failure (1 s), the next acquisition asks the broker again.
    await new Promise((r) => setTimeout(r, 1_100));
    const before = emulator.tenant.users.size;
    await emulator.resetStats();
    const upn = `foreign.${Date.now()}@${emulator.tenant.domain}`;
    const result = await gw.graphql(
      'mutation($i: CreateUserInput!) { createUser(input: $i) { requestId } }',
      { i: { userPrincipalName: upn, displayName: 'Foreign', mailNickname: 'foreign', password: 'Initial-Passw0rd-Of-A-New-Hire' } },
      { 'x-api-key': WRITER_KEY },
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_ERROR');
    expect(emulator.tenant.users.size).toBe(before);
    expect((await emulator.stats()).graphRequests).toBe(0);
  });
});
