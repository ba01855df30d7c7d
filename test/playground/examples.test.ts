import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlaygroundExample } from '../../src/playground/examples.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * Every example the playground page offers runs as served (its query with its default variables)
 * against a real gateway and answers data without errors. The containment mutation's default user
 * is a placeholder on purpose (running it unedited must not disable anyone), so the test fills in a
 * real non-admin user of the tenant and checks the effect there.
 */

let emulator: TestEmulator;
let gw: TestGateway;
let examples: PlaygroundExample[];

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 120 });
  gw = await startTestGateway({ emulator, env: { DEPLOYMENT_MODE: 'self-deployed' } });
  // The examples exactly as the page embeds them, not a second call to playgroundExamples().
  const page = await (await fetch(`${gw.url}/graphql`, { headers: { accept: 'text/html' } })).text();
  const json = /<script id="playground-config" type="application\/json">([\s\S]*?)<\/script>/.exec(page)?.[1];
  if (!json) throw new Error('playground page has no embedded config');
  examples = (JSON.parse(json) as { examples: PlaygroundExample[] }).examples;
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

function aNonAdminMember() {
  return [...emulator.tenant.users.values()].find(
    (u) => u.accountEnabled && u.userType === 'Member' && u._directoryRoles.length === 0 && u.id !== emulator.tenant.wellKnown.adminUserId,
  )!;
}

describe('playground examples', () => {
  it('offers the directory, profile, search, change feed, security review and containment examples', () => {
    expect(examples.map((e) => e.title)).toEqual(['Directory page', 'Profile card', 'Search', 'Change feed', 'Security review', 'Contain an account']);
  });

  it('runs every query example with its default variables: data, no errors', async () => {
    const queries = examples.filter((e) => !/^\s*(#.*\n\s*)*mutation\b/.test(e.query));
    expect(queries).toHaveLength(5);
    for (const example of queries) {
      const result = await gw.graphql(example.query, example.variables);
      expect(result.errors, `${example.title}: ${JSON.stringify(result.errors)}`).toBeUndefined();
      expect(result.status).toBe(200);
      const [root] = Object.values(result.data ?? {});
      expect(root, `${example.title} answered no data`).toBeTruthy();
    }
  });

  it('the directory example stays one Graph request (managers expanded: no totalCount, no advanced query)', async () => {
    const directory = examples.find((e) => e.title === 'Directory page')!;
    expect(directory.query).not.toMatch(/^\s*totalCount\b/m);
    await emulator.resetStats();
    const result = await gw.graphql<{ users: { nodes: Array<{ manager: unknown }> } }>(directory.query, directory.variables);
    expect(result.errors).toBeUndefined();
    expect(result.data!.users.nodes).toHaveLength(25);
    expect(result.data!.users.nodes.some((n) => n.manager !== null)).toBe(true);
    expect((await emulator.stats()).graphRequests).toBe(1);
  });

  it('runs the containment example on a real non-admin user: sessions revoked, sign-in blocked', async () => {
    const containment = examples.find((e) => e.title === 'Contain an account')!;
    expect(containment.query).toMatch(/self-deployed/i);
    expect(containment.query).toContain('Users.Terminate');
    expect(Object.keys(containment.variables ?? {})).toEqual(['userId']);
    const target = aNonAdminMember();
    const result = await gw.graphql<{
      terminateSession: { succeeded: boolean; steps: Array<{ step: string; succeeded: boolean }>; user: { id: string; accountEnabled: boolean } };
    }>(containment.query, { ...containment.variables, userId: target.id });
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    const payload = result.data!.terminateSession;
    expect(payload.succeeded).toBe(true);
    expect(payload.steps.map((s) => [s.step, s.succeeded])).toEqual([
      ['REVOKE_SESSIONS', true],
      ['DISABLE_ACCOUNT', true],
    ]);
    expect(payload.user.id).toBe(target.id);
    expect(emulator.tenant.users.get(target.id)!.accountEnabled).toBe(false);
  });

  it('refuses the containment example unedited (placeholder user) without touching anyone', async () => {
    const containment = examples.find((e) => e.title === 'Contain an account')!;
    await emulator.resetStats();
    const result = await gw.graphql(containment.query, containment.variables);
    expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect((await emulator.stats()).graphRequests).toBe(0);
  });
});
