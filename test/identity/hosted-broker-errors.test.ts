import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeTokenFailure } from '../../src/doctor/acquire-token.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * What a caller learns when the hosted broker refuses the gateway: the status and what the operator
 * must do, never the broker's own text (docs/identity.md#hosted-broker-errors). Before, up to 300
 * characters of whatever the broker answered went to every caller, BROKER_ID included when the
 * broker quoted it; the text now goes to the gateway's log only.
 */
const READER_KEY = 'hosted-errors-reader-key-0123456789';
const UNKNOWN_ID = 'reg-0f1e2d3c4b5a69788796a5b4c3d2e1f0';

let emulator: TestEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 10 });
  gw = await startTestGateway({
    emulator,
    env: {
      NODE_ENV: 'production',
      INTROSPECTION: '',
      DEPLOYMENT_MODE: 'hosted',
      ...apiKeyCallers({ reader: { key: READER_KEY, permissions: ['Users.Read'] } }),
    },
    configure: (config) => ({ ...config, hosted: { ...config.hosted!, registrationId: UNKNOWN_ID } }),
  });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

describe('hosted broker refusals as a caller sees them', () => {
  it('name the status and the fix, not the broker text; the log keeps the text', async () => {
    const result = await gw.graphql('{ users(first: 1) { nodes { id } } }', undefined, { 'x-api-key': READER_KEY });
    const error = result.errors![0]!;
    expect(error.extensions!.code).toBe('UPSTREAM_ERROR');
    expect(error.message).toMatch(/Status: 404/);
    expect(error.message).toMatch(/BROKER_ID is unknown to the broker/);
    expect(error.message).not.toContain(UNKNOWN_ID);
    expect(error.message).not.toMatch(/No registration with id/);
    expect(gw.logLines.some((line) => line.includes('No registration with id'))).toBe(true);
  });

  it("the doctor, which is the operator's, still prints the broker's text", async () => {
    // Past the back-off of the first failure (1 s), the next acquisition asks the broker again.
    await sleep(1_100);
    const error = await gw.identity
      .tokenSourceFor({ kind: 'anonymous', permissions: new Set() })
      .getAccessToken()
      .catch((e: unknown) => e);
    const printed = describeTokenFailure('hosted-broker', error, []);
    expect(printed).toMatch(/Status: 404/);
    expect(printed).toMatch(/The broker said: No registration with id/);
  });
});
