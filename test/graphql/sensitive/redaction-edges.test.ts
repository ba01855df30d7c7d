import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { MAX_REDACTED_SECRETS, REDACTED, WITHHELD } from '../../../src/graphql/sensitive/index.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

/**
 * The edges of redacting `@sensitive` values (docs/security.md#secrets-never-leave).
 *
 * Bounds. Any caller
 * can send any number of values under a `password` key, even in a variable no operation declares,
 * and every one of them is a secret to remove from the request's errors. Unbounded, one value of
 * 900 KB made a pattern V8 refuses to build: the request failed with a 500 and the log got the
 * rejected pattern, every secret verbatim, several times over; 20,000 short values did the same,
 * and 100,000 five-character ones held the event loop for ~1.7 s per request. Past the bounds the
 * error texts are withheld whole; the codes stay.
 *
 * Codes. Redaction removes the request's secrets from every error text, but never from
 * `extensions.code`: a code is the server's closed vocabulary, not the caller's text
 * (src/graphql/error-text.ts). A caller who sent the codes themselves under a `password` key turned
 * each of its validation errors into an INTERNAL_SERVER_ERROR, and each into an `error` log line
 * with its stack.
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

async function post(body: unknown): Promise<{ status: number; text: string; errors: Array<{ message: string; extensions?: Record<string, unknown> }> }> {
  const res = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, errors: (JSON.parse(text) as { errors?: [] }).errors ?? [] };
}

/** `count` distinct strings of three lower-case letters: short secrets, each its own pattern alternative. */
function shortValues(count: number): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from({ length: count }, (_, i) => letters[i % 26]! + letters[Math.floor(i / 26) % 26]! + letters[Math.floor(i / 676) % 26]!);
}

describe('redaction of a request carrying more secret values than are removed one by one', () => {
  it('one huge value under `password` (in a variable nobody declared): BAD_USER_INPUT with the text withheld, the value in no log line', async () => {
    const secret = `Zq7-huge-${'x'.repeat(900_000)}`;
    const logLinesBefore = gateway.logLines.length;
    // Several failing fields: V8 builds native code for a pattern once it has run a few times, and
    // that is where it gives up on a huge one.
    const query = `{ ${Array.from({ length: 20 }, (_, i) => `u${i}: user(id: "not an id!") { id }`).join(' ')} }`;
    const answer = await post({ query, variables: { unused: { password: secret } } });
    expect(answer.status, answer.text.slice(0, 300)).toBe(200);
    expect(answer.errors.map((e) => e.extensions?.code)).toEqual(Array(20).fill(ErrorCode.BAD_USER_INPUT));
    expect(answer.errors[0]!.message).toBe(WITHHELD);
    expect(answer.text.includes('Zq7-huge-')).toBe(false);
    const lines = gateway.logLines.slice(logLinesBefore);
    expect(lines.some((line) => line.includes('Zq7-huge-'))).toBe(false);
    // The request's log lines stay the size of log lines, not of the secrets (the old failure wrote megabytes).
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(10_000);
    expect(lines.some((line) => line.includes('"level":"error"'))).toBe(false);
  });

  it('thousands of values where the password goes (a typed variable): the coercion error keeps its code, its text is withheld', async () => {
    const values = shortValues(20_000);
    const logLinesBefore = gateway.logLines.length;
    const answer = await post({
      query: 'mutation($i: ChangePasswordInput!) { changePassword(input: $i) { __typename } }',
      variables: { i: { user: userId, password: values } },
    });
    expect(answer.status, answer.text.slice(0, 300)).toBe(400);
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors[0]!.extensions).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, reason: 'BAD_USER_INPUT' });
    expect(answer.errors[0]!.message).toBe(WITHHELD);
    // graphql-js quotes the list it could not coerce; none of it may remain.
    expect(answer.text.includes(JSON.stringify(values.slice(0, 3)).slice(1, -1).replace(/,/g, ', '))).toBe(false);
    const lines = gateway.logLines.slice(logLinesBefore);
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(10_000);
    expect(lines.some((line) => line.includes('"level":"error"'))).toBe(false);
  });

  it('within the bounds, each secret is still removed on its own and the message keeps its meaning', async () => {
    const secrets = Array.from({ length: MAX_REDACTED_SECRETS - 1 }, (_, i) => `Zq7-in-bounds-${i}-Secret!`);
    const answer = await post({
      query: 'mutation($i: ChangePasswordInput!) { changePassword(input: $i) { __typename } }',
      variables: { i: { user: userId, password: secrets[0], notAField: 1 }, unused: { password: secrets.slice(1) } },
    });
    expect(answer.status).toBe(400);
    expect(answer.errors[0]!.message).toContain(`password: "${REDACTED}"`);
    expect(answer.errors[0]!.message).toContain('Field "notAField" is not defined by type "ChangePasswordInput".');
    for (const secret of secrets) expect(answer.text.includes(secret)).toBe(false);
  });
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
