import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { TestEmulator } from '../support/emulator.js';
import { answerJson, startAppBehindHostileGraph, type AppBehindHostileGraph, type HostileGraph } from '../support/hostile-graph.js';

/**
 * A containment's steps go to Graph in one `$batch` (revoke the sessions, disable the account). A
 * Graph answering the disable item twice, once 403 and once 204, had the gateway report whichever
 * came last: `succeeded: true`, DISABLE_ACCOUNT SUCCEEDED, to the SOAR that then closes the incident
 * on an account Graph also said it refused to disable. Production configuration, a Users.Terminate key.
 */
let emulator: TestEmulator;
let graph: HostileGraph;
let app: App;
const key = randomBytes(24).toString('base64url');

let setup: AppBehindHostileGraph;

beforeAll(async () => {
  setup = await startAppBehindHostileGraph({ userCount: 10, env: { LOG_LEVEL: 'silent' }, callers: { responder: { key, permissions: ['Users.Terminate'] } } });
  ({ emulator, graph, app } = setup);
}, 60_000);

afterAll(() => setup?.close());

type Step = { step: string; outcome: string; succeeded: boolean };

async function terminate(user: string): Promise<{ succeeded: boolean; steps: Step[] }> {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query: `mutation { terminateSession(input: { user: "${user}" }) { succeeded steps { step outcome succeeded } } }` }),
  });
  const body = (await res.json()) as { data: { terminateSession: { succeeded: boolean; steps: Step[] } } };
  return body.data.terminateSession;
}

const denied = { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } };

it('an item answered twice (403, then 204) is a step of unknown outcome, not the last answer', async () => {
  const target = [...emulator.tenant.users.values()][3]!;
  let batches = 0;
  graph.answer = (req, res) => {
    if (req.method !== 'POST' || !req.url.startsWith('/v1.0/$batch') || !req.body.includes('revokeSignInSessions')) return false;
    batches += 1;
    const items = (JSON.parse(req.body) as { requests: Array<{ id: string; method: string }> }).requests;
    const responses = items.flatMap((item): Array<{ id: string; status: number; body?: unknown }> =>
      item.method === 'PATCH'
        ? [
            { id: item.id, status: 403, body: denied },
            { id: item.id, status: 204 },
          ]
        : item.method === 'GET'
          ? [{ id: item.id, status: 200, body: { id: target.id, userType: 'Member' } }]
          : [{ id: item.id, status: 200, body: { value: true } }],
    );
    return answerJson(res, 200, { responses });
  };
  const result = await terminate(target.id);
  graph.answer = () => false;
  expect(batches).toBe(1);
  expect(result.succeeded).toBe(false);
  expect(result.steps).toEqual([
    { step: 'REVOKE_SESSIONS', outcome: 'SUCCEEDED', succeeded: true },
    { step: 'DISABLE_ACCOUNT', outcome: 'UNKNOWN', succeeded: false },
  ]);
});

it('the same containment against a Graph that answers each item once succeeds', async () => {
  const target = [...emulator.tenant.users.values()][4]!;
  const result = await terminate(target.id);
  expect(result.succeeded).toBe(true);
  expect(result.steps.map((s) => s.outcome)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  expect(emulator.tenant.users.get(target.id)?.accountEnabled).toBe(false);
});
