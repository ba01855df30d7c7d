import { apiKeyCallers } from './api-key-callers.js';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from './gateway.js';

/** The key of the one caller of a key-guarded gateway. */
export const GOOD_KEY = 'the-good-key-0123456789';
/** A guess: a well-formed key no caller holds. */
export const WRONG_KEY = 'a-guessed-key-9876543210';
/** An operation the caller may run (Users.Read). */
export const READ_QUERY = '{ users(first: 1) { nodes { id } } }';

/**
 * A gateway as the caller-authentication tests meet it: the production configuration, one API-key
 * caller (`soar`, Users.Read) holding GOOD_KEY. `options.env` adds what the test is about (failure
 * limits, trusted proxies).
 */
export function startKeyGuardedGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  return startTestGateway({
    ...options,
    env: { NODE_ENV: 'production', ...apiKeyCallers({ soar: { key: GOOD_KEY, permissions: ['Users.Read'] } }), ...options.env },
  });
}
