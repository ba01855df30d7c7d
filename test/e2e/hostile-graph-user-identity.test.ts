import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch as undiciFetch } from 'undici';
import type { App } from '../../src/app.js';
import type { TestEmulator } from '../support/emulator.js';
import { answerJson, startAppBehindHostileGraph, type AppBehindHostileGraph, type HostileGraph, type HostileRequest } from '../support/hostile-graph.js';
import { capturingLogger } from '../support/log-capture.js';

/**
 * A Graph that answers a lookup of one user (`GET /users/{id | upn}`, alone or as a `$batch` item)
 * with another user's object. Before, the gateway served it as the user asked for: `user(id: A)`
 * showed B, under A's alias, to a caller who asked for A. Now the answer must be the user the key
 * names (the id, or the UPN in any letter case: docs/security.md#a-lookup-answers-the-user-it-names),
 * else that lookup alone is UPSTREAM_ERROR and the others are served (docs/querying.md#partial-answers).
 * Production configuration, a caller with the read permission.
 */
let emulator: TestEmulator;
let graph: HostileGraph;
let app: App;
const lines: string[] = [];
const key = randomBytes(24).toString('base64url');
let users: Array<{ id: string; userPrincipalName: string; displayName: string }>;

let setup: AppBehindHostileGraph;

beforeAll(async () => {
  setup = await startAppBehindHostileGraph({
    userCount: 10,
    callers: { reader: { key, permissions: ['Users.Read'] } },
    logger: capturingLogger(lines, 'info'),
  });
  ({ emulator, graph, app } = setup);
  users = [...emulator.tenant.users.values()]
    .filter((u) => !u.userPrincipalName.includes('#EXT#'))
    .slice(0, 3)
    .map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName }));
}, 60_000);

afterAll(() => setup?.close());

async function gql(query: string): Promise<{ data: any; errors?: Array<{ message: string; path?: unknown[]; extensions: Record<string, unknown> }> }> {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data: any; errors?: Array<{ message: string; path?: unknown[]; extensions: Record<string, unknown> }> };
}

/** The lookup of `asked` (its id or UPN, as the gateway sent it) answered with `instead`'s object; everything else relayed. */
function answerLookupWith(asked: string, instead: { id: string; userPrincipalName: string; displayName: string }): void {
  const names = (url: string) => {
    const path = decodeURIComponent(url.split('?')[0]!).toLowerCase();
    return path === `/v1.0/users/${asked.toLowerCase()}` || path === `/users/${asked.toLowerCase()}`;
  };
  const other = { ...instead, manager: null };
  graph.answer = (req, res) => {
    if (req.method === 'GET' && names(req.url)) return answerJson(res, 200, other);
    if (req.method === 'POST' && req.url.startsWith('/v1.0/$batch') && req.body.toLowerCase().includes(asked.toLowerCase())) {
      void relayBatchChanging(req, res, (url) => (names(url) ? other : undefined));
      return true;
    }
    return false;
  };
}

/** Relays a `$batch` to the emulator and replaces the body of the items `replace` names. */
async function relayBatchChanging(req: HostileRequest, res: ServerResponse, replace: (url: string) => unknown): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name)) headers[name] = value;
  }
  const answer = await undiciFetch(`${emulator.origin}${req.url}`, { method: 'POST', headers, body: req.body, dispatcher: emulator.dispatcher });
  const batch = (await answer.json()) as { responses: Array<{ id: string; status: number; body?: unknown; headers?: Record<string, string> }> };
  const sent = JSON.parse(req.body) as { requests: Array<{ id: string; url: string }> };
  for (const item of batch.responses) {
    const url = sent.requests.find((r) => r.id === item.id)!.url;
    const body = replace(url);
    if (body !== undefined) Object.assign(item, { status: 200, body, headers: { 'content-type': 'application/json' } });
  }
  answerJson(res, 200, batch);
}

describe('a lookup answered with another user', () => {
  it('by object id, the lookup alone: UPSTREAM_ERROR, the other user not shown', async () => {
    const [a, b] = users;
    answerLookupWith(a!.id, b!);
    const result = await gql(`{ user(id: "${a!.id}") { id displayName } }`);
    graph.answer = () => false;
    expect(result.errors?.[0]?.extensions.code).toBe('UPSTREAM_ERROR');
    expect(result.errors?.[0]?.message).toBe('Microsoft Graph sent an unexpected response: a user other than the one asked for.');
    expect(result.data?.user ?? null).toBeNull();
    expect(JSON.stringify(result)).not.toContain(b!.displayName);
  });

  it('by object id in a $batch (manager expanded): only that lookup fails, the other is served', async () => {
    const [a, b, c] = users;
    answerLookupWith(a!.id, b!);
    const result = await gql(`{ a: user(id: "${a!.id}") { id displayName manager { id } } c: user(id: "${c!.id}") { id displayName manager { id } } }`);
    graph.answer = () => false;
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.extensions.code).toBe('UPSTREAM_ERROR');
    expect(result.errors?.[0]?.path).toEqual(['a']);
    expect(result.data.a).toBeNull();
    expect(result.data.c).toMatchObject({ id: c!.id, displayName: c!.displayName });
  });

  it('by userPrincipalName: the answer’s UPN must be the one asked; only that lookup fails', async () => {
    const [a, b, c] = users;
    answerLookupWith(a!.userPrincipalName, b!);
    const result = await gql(`{ a: user(id: "${a!.userPrincipalName}") { id displayName } c: user(id: "${c!.userPrincipalName}") { id displayName } }`);
    graph.answer = () => false;
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.extensions.code).toBe('UPSTREAM_ERROR');
    expect(result.errors?.[0]?.path).toEqual(['a']);
    expect(result.data.a).toBeNull();
    expect(result.data.c).toEqual({ id: c!.id, displayName: c!.displayName });
  });

  it('what Graph answers for the user asked is served: a UPN in another letter case, an id in upper case, each lookup alone and together', async () => {
    const [a, , c] = users;
    graph.seen.length = 0;
    const upper = a!.userPrincipalName.toUpperCase();
    const alone = await gql(`{ user(id: "${upper}") { id displayName } }`);
    expect(alone.errors).toBeUndefined();
    expect(alone.data.user).toEqual({ id: a!.id, displayName: a!.displayName });
    const together = await gql(
      `{ a: user(id: "${upper}") { id } c: user(id: "${c!.id.toUpperCase()}") { id manager { id } } d: user(id: "${c!.userPrincipalName}") { id userPrincipalName } }`,
    );
    expect(together.errors).toBeUndefined();
    expect(together.data.a).toEqual({ id: a!.id });
    expect(together.data.c.id.toLowerCase()).toBe(c!.id);
    expect(together.data.d).toEqual({ id: c!.id, userPrincipalName: c!.userPrincipalName });
    // A lookup by UPN asks for the UPN (the check reads it); one by id does not need to.
    const lookups = graph.seen.flatMap((r) =>
      r.url.startsWith('/v1.0/$batch') ? (JSON.parse(r.body) as { requests: Array<{ url: string }> }).requests.map((i) => i.url) : [r.url],
    );
    const byUpn = lookups.filter((u) => decodeURIComponent(u).toLowerCase().includes(a!.userPrincipalName.toLowerCase()));
    expect(byUpn.length).toBeGreaterThan(0);
    for (const url of byUpn) expect(decodeURIComponent(url)).toMatch(/\$select=[^&]*userPrincipalName/);
  });
});
