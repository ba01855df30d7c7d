import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { TestEmulator } from '../support/emulator.js';
import { answerJson, startAppBehindHostileGraph, type AppBehindHostileGraph, type HostileGraph } from '../support/hostile-graph.js';
import { capturingLogger } from '../support/log-capture.js';

/**
 * Links Graph sends in the middle of an operation (the next page of a page the gateway fills from
 * several, the next page of a delta round, the round's deltaLink) that point at another host. The
 * gateway never sends anything there (the link is checked as a caller's cursor is), but it blamed
 * the caller: BAD_USER_INPUT, "The page cursor is not valid ... Start again from the first page",
 * for a cursor the caller never sent, and a deltaLink of another host went into the change-feed
 * token, refused at every later call. Production configuration, a caller with the read permissions.
 */
let emulator: TestEmulator;
let graph: HostileGraph;
let elsewhere: Server;
let elsewhereOrigin = '';
const reachedElsewhere: string[] = [];
let app: App;
const lines: string[] = [];
const key = randomBytes(24).toString('base64url');

let setup: AppBehindHostileGraph;

beforeAll(async () => {
  setup = await startAppBehindHostileGraph({
    userCount: 10,
    callers: { reader: { key, permissions: ['Users.Read', 'Users.ReadChanges', 'Users.ReadAuthMethods'] } },
    logger: capturingLogger(lines, 'info'),
  });
  ({ emulator, graph, app } = setup);
  // Another host the gateway trusts the certificate of: only where a link points, never to be reached.
  const dir = path.dirname(emulator.caFile);
  elsewhere = createServer(
    { cert: readFileSync(path.join(dir, 'emulator-server.pem')), key: readFileSync(path.join(dir, 'emulator-server.key')) },
    (req, res) => {
      reachedElsewhere.push(`${req.method} ${req.url}`);
      res.end('{"value":[]}');
    },
  );
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  elsewhereOrigin = `https://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  elsewhere?.closeAllConnections();
  await new Promise((resolve) => elsewhere?.close(resolve));
  await setup?.close();
});

async function gql(query: string): Promise<{ data: any; errors?: Array<{ message: string; extensions: Record<string, unknown> }> }> {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data: any; errors?: Array<{ message: string; extensions: Record<string, unknown> }> };
}

const USER = { id: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f', displayName: 'Someone' };

describe("Graph's own links to another host", () => {
  it('a page filled from several Graph pages (manager expanded, Graph pages of 20): UPSTREAM_ERROR, not the caller’s cursor', async () => {
    graph.answer = (req, res) =>
      req.url.startsWith('/v1.0/users?') ? answerJson(res, 200, { value: [USER], '@odata.nextLink': `${elsewhereOrigin}/v1.0/users?$skiptoken=x` }) : false;
    const result = await gql('{ users(first: 30) { nodes { id manager { id } } } }');
    graph.answer = () => false;
    expect(result.errors?.[0]?.extensions.code).toBe('UPSTREAM_ERROR');
    expect(result.errors?.[0]?.message).toMatch(/^Microsoft Graph sent a next page link the gateway will not follow/);
    expect(reachedElsewhere).toEqual([]);
  });

  it('the next page of a delta round: UPSTREAM_ERROR, no resync asked of the caller', async () => {
    graph.answer = (req, res) =>
      req.url.startsWith('/v1.0/users/delta')
        ? answerJson(res, 200, { value: [USER], '@odata.nextLink': `${elsewhereOrigin}/v1.0/users/delta?$skiptoken=x` })
        : false;
    const result = await gql('{ userChanges { complete nextDeltaToken } }');
    graph.answer = () => false;
    expect(result.errors?.[0]?.extensions.code).toBe('UPSTREAM_ERROR');
    expect(result.errors?.[0]?.extensions.resyncRequired).toBeUndefined();
    expect(reachedElsewhere).toEqual([]);
  });

  it("a round's deltaLink of another host fails that round, instead of becoming a token refused at every later call", async () => {
    graph.answer = (req, res) =>
      req.url.startsWith('/v1.0/users/delta')
        ? answerJson(res, 200, { value: [USER], '@odata.deltaLink': `${elsewhereOrigin}/v1.0/users/delta?$deltatoken=x` })
        : false;
    const result = await gql('{ userChanges { complete nextDeltaToken } }');
    graph.answer = () => false;
    expect(result.errors?.[0]?.extensions.code).toBe('UPSTREAM_ERROR');
    expect(result.data?.userChanges ?? null).toBeNull();
    expect(reachedElsewhere).toEqual([]);
  });

  it("a page's own nextLink of another host: UPSTREAM_ERROR when the page is received, no cursor handed out that the gateway would refuse", async () => {
    graph.answer = (req, res) =>
      req.url.startsWith('/v1.0/users?') ? answerJson(res, 200, { value: [USER], '@odata.nextLink': `${elsewhereOrigin}/v1.0/users?$skiptoken=x` }) : false;
    const result = await gql('{ users(first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } }');
    graph.answer = () => false;
    expect(result.errors?.[0]?.extensions.code).toBe('UPSTREAM_ERROR');
    expect(result.errors?.[0]?.message).toMatch(/^Microsoft Graph sent a next page link the gateway will not follow/);
    expect(result.data?.users ?? null).toBeNull();
    expect(reachedElsewhere).toEqual([]);
  });

  it('the same for a link of the right host that continues another collection', async () => {
    graph.answer = (req, res) =>
      req.url.startsWith('/v1.0/users?') ? answerJson(res, 200, { value: [USER], '@odata.nextLink': `${graph.origin}/v1.0/groups?$skiptoken=x` }) : false;
    const result = await gql('{ users(first: 1) { nodes { id } pageInfo { endCursor } } }');
    graph.answer = () => false;
    expect(result.errors?.[0]?.extensions.code).toBe('UPSTREAM_ERROR');
    expect(result.data?.users ?? null).toBeNull();
  });

  it("a relationship's first page (a $batch item) with a link of another host: that user's field only is UPSTREAM_ERROR", async () => {
    const [first, second] = [...emulator.tenant.users.values()].slice(0, 2).map((u) => u.id);
    // The directReports items of the $batch answered with a link of another host; the rest relayed.
    graph.answer = (req, res) => {
      if (req.method !== 'POST' || !req.url.startsWith('/v1.0/$batch')) return false;
      const batch = JSON.parse(req.body) as { requests: Array<{ id: string; url: string }> };
      if (!batch.requests.every((r) => r.url.includes('/directReports'))) return false;
      return answerJson(res, 200, {
        responses: batch.requests.map((r) => ({
          id: r.id,
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: r.url.includes(first!) ? { value: [], '@odata.nextLink': `${elsewhereOrigin}/v1.0/users/${first}/directReports?$skiptoken=x` } : { value: [] },
        })),
      });
    };
    const result = await gql(
      `{ a: user(id: "${first}") { id directReports(first: 1) { pageInfo { endCursor } } } b: user(id: "${second}") { id directReports(first: 1) { pageInfo { endCursor } } } }`,
    );
    graph.answer = () => false;
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.extensions.code).toBe('UPSTREAM_ERROR');
    expect((result.errors?.[0] as { path?: unknown }).path).toEqual(['a', 'directReports']);
    expect(result.data.a).toEqual({ id: first, directReports: null });
    expect(result.data.b).toEqual({ id: second, directReports: { pageInfo: { endCursor: null } } });
    expect(reachedElsewhere).toEqual([]);
  });

  it("a user's authentication methods (a $batch item) with a next link of another host: that user's field only is UPSTREAM_ERROR, the link not followed", async () => {
    const [first, second] = [...emulator.tenant.users.values()].slice(2, 4).map((u) => u.id);
    graph.answer = (req, res) => {
      if (req.method !== 'POST' || !req.url.startsWith('/v1.0/$batch')) return false;
      const batch = JSON.parse(req.body) as { requests: Array<{ id: string; url: string }> };
      if (!batch.requests.every((r) => r.url.includes('/authentication/methods'))) return false;
      return answerJson(res, 200, {
        responses: batch.requests.map((r) => ({
          id: r.id,
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: r.url.includes(first!)
            ? { value: [], '@odata.nextLink': `${elsewhereOrigin}/v1.0/users/${first}/authentication/methods?$skiptoken=x` }
            : { value: [] },
        })),
      });
    };
    const seenBefore = graph.seen.length;
    const result = await gql(`{ a: user(id: "${first}") { id authenticationMethods { id } } b: user(id: "${second}") { id authenticationMethods { id } } }`);
    graph.answer = () => false;
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.extensions.code).toBe('UPSTREAM_ERROR');
    expect((result.errors?.[0] as { path?: unknown }).path).toEqual(['a', 'authenticationMethods']);
    expect(result.data.a).toEqual({ id: first, authenticationMethods: null });
    expect(result.data.b).toEqual({ id: second, authenticationMethods: [] });
    // Before, the link's path was taken whatever its host and asked of the configured endpoint.
    expect(graph.seen.slice(seenBefore).filter((r) => r.url.includes('skiptoken'))).toEqual([]);
    expect(reachedElsewhere).toEqual([]);
  });

  it('the same queries against a Graph that keeps to its own links are served', async () => {
    const users = await gql('{ users(first: 5) { nodes { id } pageInfo { endCursor } } }');
    expect(users.errors).toBeUndefined();
    expect(users.data.users.nodes).toHaveLength(5);
    const next = await gql(`{ users(first: 5, after: "${users.data.users.pageInfo.endCursor}") { nodes { id } } }`);
    expect(next.errors).toBeUndefined();
    expect(next.data.users.nodes).toHaveLength(5);
    const changes = await gql('{ userChanges { complete nextDeltaToken } }');
    expect(changes.errors).toBeUndefined();
    expect(typeof changes.data.userChanges.nextDeltaToken).toBe('string');
  });
});
