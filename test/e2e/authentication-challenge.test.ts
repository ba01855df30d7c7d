import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { READ_QUERY, startKeyGuardedGateway, WRONG_KEY } from '../support/key-guarded-gateway.js';

/**
 * A 401 names the scheme that would answer it (RFC 9110 §11.6.1; src/identity/caller-authenticator.ts
 * `authenticationChallenge`): `ApiKey` with CALLER_AUTH=api-key, `Bearer` with CALLER_AUTH=entra.
 * Before, every 401 said `Bearer`, which sent an API-key client looking for a token.
 */
const graphql = (url: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: READ_QUERY }),
  });

describe('the challenge of a 401', () => {
  let emulator: TestEmulator;
  let apiKeyGateway: TestGateway;
  let entraGateway: TestGateway;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    apiKeyGateway = await startKeyGuardedGateway({ emulator });
    entraGateway = await startTestGateway({
      emulator,
      env: { NODE_ENV: 'production', CALLER_AUTH: 'entra', API_AUDIENCE: `api://msgraph-user-gateway, ${emulator.tenant.wellKnown.demoAppId}` },
    });
  }, 60_000);
  afterAll(async () => {
    await apiKeyGateway?.close();
    await entraGateway?.close();
    await emulator?.close();
  });

  it('is ApiKey with CALLER_AUTH=api-key, with no credential or a wrong key', async () => {
    for (const headers of [{}, { 'x-api-key': WRONG_KEY }, { authorization: `ApiKey ${WRONG_KEY}` }] as Array<Record<string, string>>) {
      const res = await graphql(apiKeyGateway.url, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('ApiKey');
    }
  });

  it('is Bearer with CALLER_AUTH=entra', async () => {
    for (const headers of [{}, { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' }] as Array<Record<string, string>>) {
      const res = await graphql(entraGateway.url, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });
});
