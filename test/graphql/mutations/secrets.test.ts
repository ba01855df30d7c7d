import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, type App } from '../../../src/app.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startDelegatedApp, type DelegatedApp } from '../../support/delegated-app.js';
import { loadSandboxConfig } from '../../support/sandbox-config.js';
import { capturingLogger } from '../../support/log-capture.js';

/**
 * Secrets given to or minted by mutations (passwords, Temporary Access Passes) never reach a log
 * line, even at trace level, nor an error or an audit event: the app as `npm start` composes it,
 * logging into memory.
 */

let emulator: TestEmulator;
let app: App;
/** resetPassword is delegated-only: changePasswordOnPremises runs through a signed-in administrator, logging into the same lines. */
let delegated: DelegatedApp;
const lines: string[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 50 });
  const config = loadSandboxConfig(emulator, {
    LOG_LEVEL: 'trace',
    DEPLOYMENT_MODE: 'self-deployed',
  });
  const logger = capturingLogger(lines, 'trace');
  app = await startApp(config, { logger, emulator });
  delegated = await startDelegatedApp(emulator, { logLines: lines, logLevel: 'trace' });
}, 60_000);

afterAll(async () => {
  await delegated?.close();
  await app?.close();
  await emulator?.close();
});

async function graphql(query: string, variables?: Record<string, unknown>, url = app.url) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, text: await res.text() };
}

it('no password or pass appears in logs, errors or audit events, whatever the outcome', async () => {
  const users = [...emulator.tenant.users.values()].filter((u) => u._directoryRoles.length === 0 && u.userType === 'Member').slice(0, 4);
  const goodPassword = 'Tr4ce-Level!Secret#1';
  const weakPassword = 'weakling-secret';
  const onPremPassword = 'OnPrem-Tr4ce!Secret#2';
  const createPassword = 'Cre4te-Tr4ce!Secret#3';
  const responses: string[] = [];

  const changePassword = async (user: string, password: string) =>
    (await graphql('mutation ($i: ChangePasswordInput!) { changePassword(input: $i) { forceChangePasswordNextSignIn } }', { i: { user, password } })).text;

  responses.push(await changePassword(users[0]!.id, goodPassword));
  responses.push(await changePassword(users[1]!.id, weakPassword));
  // A user that does not exist: the failure path.
  responses.push(await changePassword(`nobody@${emulator.tenant.domain}`, goodPassword));
  responses.push(
    (
      await graphql(
        `
          mutation ($i: ChangePasswordOnPremisesInput!) {
            changePasswordOnPremises(input: $i) {
              status
            }
          }
        `,
        { i: { user: users[2]!.id, password: onPremPassword } },
        delegated.url,
      )
    ).text,
  );
  // The same under client credentials: refused at validation (Graph has no application permission for resetPassword).
  responses.push(
    (
      await graphql('mutation ($i: ChangePasswordOnPremisesInput!) { changePasswordOnPremises(input: $i) { status } }', {
        i: { user: users[2]!.id, password: onPremPassword },
      })
    ).text,
  );
  responses.push(
    (
      await graphql(
        `
          mutation ($i: CreateUserInput!) {
            createUser(input: $i) {
              user {
                id
              }
            }
          }
        `,
        {
          i: { userPrincipalName: `trace.${Date.now()}@${emulator.tenant.domain}`, displayName: 'Trace', mailNickname: 'trace', password: createPassword },
        },
      )
    ).text,
  );
  users[3]!.authMethods = users[3]!.authMethods.filter((m) => m.type !== 'temporaryAccessPass');
  const tapResponse = (
    await graphql(`mutation { createTemporaryAccessPass(input: {user: "${users[3]!.id}"}) { temporaryAccessPass { temporaryAccessPass } } }`)
  ).text;
  const pass = (JSON.parse(tapResponse) as any).data.createTemporaryAccessPass.temporaryAccessPass.temporaryAccessPass as string;
  expect(pass.length).toBeGreaterThan(4);

  expect(JSON.parse(responses[0]!).data.changePassword.forceChangePasswordNextSignIn).toBe(true);
  expect(JSON.parse(responses[1]!).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  expect(JSON.parse(responses[2]!).errors[0].extensions.code).toBe('NOT_FOUND');
  expect(JSON.parse(responses[3]!).data.changePasswordOnPremises.status).toBe('SUCCEEDED');
  expect(JSON.parse(responses[4]!).errors[0].extensions.code).toBe('UNSUPPORTED_GRAPH_IDENTITY');

  const everything = lines.join('\n');
  expect(lines.length).toBeGreaterThan(20); // trace logging really happened
  const audit = lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('"audit":true'));
  expect(audit.length).toBeGreaterThanOrEqual(6);
  for (const secret of [goodPassword, weakPassword, onPremPassword, createPassword, pass]) {
    expect(everything).not.toContain(secret);
    for (const r of responses) expect(r).not.toContain(secret);
  }
});
