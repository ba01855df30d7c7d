import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, type Config } from '../../src/config-types.js';
import { demoAppAuthorizationCode, startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { post, startRecordingGateway } from './recording-gateway.js';
import { appCallerToken } from '../identity/support.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * Every Graph identity flow and caller authentication mode, run with logging at `trace` into
 * memory: no token (any JWT), client secret, certificate key, broker token or key, password,
 * authorization code or API key may appear in a log line, an answer (errors included) or /metrics.
 */
let emulator: TestEmulator;
const REDIRECT_URI = 'http://127.0.0.1:4000/auth/callback';
const API_KEY = 'reliability-api-key-0123456789abcdef';
const NEW_PASSWORD = 'Rel1ability-Pass-word!9';
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;
const secrets: string[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
  const known = emulator.tenant.wellKnown;
  const registration = emulator.tenant.brokerRegistrations.get(known.brokerRegistrationId)!;
  // The broker registration's "token" is the tenant id (as in the XSOAR oproxy protocol): a secret
  // in hosted mode (the hosted flow below checks it; docs/security.md#the-broker-token-is-a-secret),
  // public in self-deployed mode, whose logs legitimately name the tenant.
  expect(registration.token).toBe(emulator.tenantId);
  secrets.push(known.demoAppSecret, known.callerAppSecret, known.readOnlyAppSecret, registration.key, known.adminPassword, API_KEY, NEW_PASSWORD);
}, 60_000);
afterAll(async () => {
  await emulator?.close();
});

async function authorizationCode(): Promise<string> {
  const code = await demoAppAuthorizationCode(emulator, REDIRECT_URI);
  secrets.push(code);
  return code;
}

async function callerToken(): Promise<string> {
  const known = emulator.tenant.wellKnown;
  const token = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret, `${known.gatewayApiAudience}/.default`);
  secrets.push(token);
  return token;
}

interface Flow {
  name: string;
  env?: Record<string, string>;
  configure?: (config: Config) => Promise<Config> | Config;
  headers?: () => Promise<Record<string, string>>;
  /** Values secret in this flow only. */
  secrets?: () => string[];
}

const flows: Flow[] = [
  { name: 'self-deployed, client credentials with a secret', env: { DEPLOYMENT_MODE: 'self-deployed' } },
  {
    name: 'self-deployed, client credentials with a certificate',
    env: { DEPLOYMENT_MODE: 'self-deployed' },
    configure: (c) => ({ ...c, selfDeployed: { ...c.selfDeployed!, credential: { kind: 'certificate', path: emulator.demoAppCertificatePath } } }),
  },
  {
    name: 'self-deployed, authorization code',
    env: { DEPLOYMENT_MODE: 'self-deployed' },
    configure: async (c) => ({
      ...c,
      selfDeployed: { ...c.selfDeployed!, flow: 'authorization-code', redirectUri: REDIRECT_URI, authCode: new Secret(await authorizationCode()) },
    }),
  },
  { name: 'hosted, through the OAuth broker', env: { DEPLOYMENT_MODE: 'hosted' }, secrets: () => [emulator.tenantId.toLowerCase()] },
  {
    name: 'entra caller tokens',
    env: { DEPLOYMENT_MODE: 'self-deployed', CALLER_AUTH: 'entra', API_AUDIENCE: 'api://msgraph-user-gateway' },
    headers: async () => ({ authorization: `Bearer ${await callerToken()}` }),
  },
  {
    name: 'API-key callers',
    env: {
      DEPLOYMENT_MODE: 'self-deployed',
      ...apiKeyCallers({ ops: { key: API_KEY, permissions: ['Users.Read', 'Users.Write', 'Users.Terminate', 'Users.ChangePassword'] } }),
    },
    headers: async () => ({ 'x-api-key': API_KEY }),
  },
];

describe('no secret in logs, answers or metrics', () => {
  for (const flow of flows) {
    it(
      flow.name,
      async () => {
        const gw = await startRecordingGateway(emulator, { LOG_LEVEL: 'trace', ...flow.env }, (c) => c);
        let configured = gw;
        if (flow.configure) {
          await gw.close();
          const config = await flow.configure(gw.config);
          configured = await startRecordingGateway(emulator, { LOG_LEVEL: 'trace', ...flow.env }, () => config);
        }
        const headers = { 'content-type': 'application/json', ...(flow.headers ? await flow.headers() : {}) };
        const answers: string[] = [];
        const run = async (query: string, variables?: Record<string, unknown>) => {
          const answer = await post(configured.url, JSON.stringify({ query, variables }), headers);
          answers.push(answer.text);
          return answer;
        };
        const target = [...emulator.tenant.users.values()].find(
          (u) =>
            u.accountEnabled &&
            u.userType === 'Member' &&
            u._directoryRoles.length === 0 &&
            u.id !== emulator.tenant.wellKnown.adminUserId &&
            !u.userPrincipalName.startsWith('$'),
        )!;
        try {
          const list = await run('{ users(first: 3) { nodes { id displayName manager { id } } pageInfo { endCursor } } }');
          expect(list.json?.errors, list.text).toBeUndefined();
          await run('query($id: ID!) { user(id: $id) { id directReports(first: 2) { nodes { id } } } }', { id: target.id });
          await run('query($id: ID!) { user(id: $id) { id } }', { id: "x') or 1 eq 1" });
          await run('{ users(first: 2, after: "eyJub3QiOiJhIGN1cnNvciJ9") { nodes { id } } }');
          await run('mutation($i: ChangePasswordInput!) { changePassword(input: $i) { __typename } }', { i: { user: target.id, password: NEW_PASSWORD } });
          await run('mutation($i: CreateUserInput!) { createUser(input: $i) { __typename } }', {
            i: {
              userPrincipalName: `sec-${flow.name.length}-${Date.now()}@${emulator.tenant.domain}`,
              displayName: 'Secret Test',
              mailNickname: `sec${Date.now()}`,
              password: NEW_PASSWORD,
            },
          });
          await run('mutation($u: ID!) { terminateSession(input: { user: $u, disableAccount: false }) { __typename } }', { u: target.id });
          answers.push(await (await fetch(`${configured.url}/readyz`)).text());
          // A caller sending a bad bearer token: its text must not be echoed back or logged.
          const forged = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJmb3JnZWQtY2FsbGVyIn0.c2lnbmF0dXJl';
          secrets.push(forged);
          answers.push(
            (await post(configured.url, JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'application/json', authorization: `Bearer ${forged}` }))
              .text,
          );
        } finally {
          await configured.close();
        }
        const metrics = await configured.metrics.registry.metrics();
        const logs = configured.logText();
        expect(logs.length).toBeGreaterThan(1000); // trace logging really ran
        for (const [where, text] of [
          ['logs', logs],
          ['answers', answers.join('\n')],
          ['metrics', metrics],
        ] as const) {
          expect(JWT.exec(text)?.[0], `a JWT in ${where}`).toBeUndefined();
          expect(text.includes('PRIVATE KEY'), `a private key in ${where}`).toBe(false);
          for (const secret of [...secrets, ...(flow.secrets?.() ?? [])]) {
            const at = text.toLowerCase().indexOf(secret.toLowerCase());
            expect(at, `a secret (${secret.slice(0, 3)}…) in ${where}: …${text.slice(Math.max(0, at - 200), at).replaceAll(secret, '<SECRET>')}<SECRET>…`).toBe(
              -1,
            );
          }
        }
      },
      60_000,
    );
  }
});
