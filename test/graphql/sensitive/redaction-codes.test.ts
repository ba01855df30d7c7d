import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { REDACTED } from '../../../src/graphql/sensitive/index.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

/**
 * Redaction removes the request's secrets from every error text, but never from `extensions.code`:
 * a code is the server's closed vocabulary, not the caller's text (src/graphql/error-text.ts). A
 * caller who sent the codes themselves under a `password` key turned each of its validation errors
 * into an INTERNAL_SERVER_ERROR, and each into an `error` log line with its stack.
 */

let emulator: TestEmulator;
let gateway: TestGateway;
let userId: string;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  gateway = await startTestGateway({ emulator, env: { NODE_ENV: 'production', INTROSPECTION: '', DEPLOYMENT_MODE: 'self-deployed' } });
  userId = [...emulator.tenant.users.values()][0]!.id;
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

describe('a secret that reads like an error code', () => {
  it("validation errors stay the caller's mistake: BAD_USER_INPUT, no error log line, no stack", async () => {
    const query = `{ ${Array.from({ length: 90 }, (_, i) => `a${i}: notAField${i}`).join(' ')} }`;
    const logLinesBefore = gateway.logLines.length;
    const result = await gateway.graphql(query, { unused: { password: ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'] } });
    expect(result.status).toBe(400);
    expect(result.errors).toHaveLength(90);
    for (const error of result.errors!) expect(error.extensions?.code).toBe(ErrorCode.BAD_USER_INPUT);
    const lines = gateway.logLines.slice(logLinesBefore);
    expect(lines.filter((line) => line.includes('"level":"error"'))).toEqual([]);
    expect(lines.join('').length).toBeLessThan(5_000);
  });

  it('a password that is a code is still removed from the message, and the code is kept', async () => {
    const result = await gateway.graphql('mutation($i: ChangePasswordInput!) { changePassword(input: $i) { __typename } }', {
      i: { user: userId, password: 'BAD_USER_INPUT', notAField: 1 },
    });
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions?.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(result.errors?.[0]?.message).toContain(`password: "${REDACTED}"`);
    expect(result.errors?.[0]?.message).not.toContain('"BAD_USER_INPUT"');
  });
});
