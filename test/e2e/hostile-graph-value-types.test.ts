import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { answerJson, startAppBehindHostileGraph, type AppBehindHostileGraph, type HostileGraph } from '../support/hostile-graph.js';
import { capturingLogger } from '../support/log-capture.js';

/**
 * A Graph answer whose values do not fit the fields' types (an object for a string, a string for a
 * boolean, anything for a date): graphql-js refuses each with a message that quotes the whole value,
 * and the gateway logged that message as an internal error at `error` level, whatever the value
 * held. Here the values hold the bearer token Graph was sent. Production configuration, the default
 * log level, a caller allowed only to read.
 */
let graph: HostileGraph;
let app: App;
const lines: string[] = [];
const readerKey = randomBytes(24).toString('base64url');

let setup: AppBehindHostileGraph;

beforeAll(async () => {
  setup = await startAppBehindHostileGraph({
    userCount: 10,
    callers: { reader: { key: readerKey, permissions: ['Users.Read'] } },
    logger: capturingLogger(lines, 'info'),
  });
  ({ graph, app } = setup);
}, 60_000);

afterAll(() => setup?.close());

it('values of the wrong type: UPSTREAM_ERROR naming the field, the value neither shown nor logged', async () => {
  const tokens: string[] = [];
  graph.answer = (req, res) => {
    if (!req.url.startsWith('/v1.0/users?')) return false;
    const bearer = String(req.headers.authorization);
    tokens.push(bearer.replace(/^Bearer /, ''));
    return answerJson(res, 200, {
      value: [
        { id: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f', displayName: { echoed: bearer }, accountEnabled: `yes ${bearer}`, createdDateTime: { at: bearer } },
      ],
    });
  };
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': readerKey },
    body: JSON.stringify({ query: '{ users(first: 3) { nodes { id displayName accountEnabled createdDateTime } } }' }),
  });
  graph.answer = () => false;
  const text = await res.text();
  const body = JSON.parse(text) as { data: any; errors: Array<{ message: string; path: unknown[]; extensions: { code: string } }> };
  expect(tokens).toHaveLength(1);
  // The user and its fields that fit are served; each field that does not is an upstream error.
  expect(body.data.users.nodes[0]).toEqual({ id: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f', displayName: null, accountEnabled: null, createdDateTime: null });
  expect(body.errors.map((e) => [e.path.at(-1), e.extensions.code, e.message])).toEqual([
    ['displayName', 'UPSTREAM_ERROR', 'Microsoft Graph sent a value the field displayName cannot hold.'],
    ['accountEnabled', 'UPSTREAM_ERROR', 'Microsoft Graph sent a value the field accountEnabled cannot hold.'],
    ['createdDateTime', 'UPSTREAM_ERROR', 'Microsoft Graph sent a value the field createdDateTime cannot hold.'],
  ]);
  const signature = tokens[0]!.split('.')[2]!.slice(0, 40);
  expect(text).not.toContain(signature);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).not.toContain(signature);
  expect(lines.some((line) => line.includes('"level":"error"'))).toBe(false);
});

it('a value that fits is served as before', async () => {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': readerKey },
    body: JSON.stringify({ query: '{ users(first: 2) { nodes { id displayName accountEnabled createdDateTime } } }' }),
  });
  const body = (await res.json()) as { data: any; errors?: unknown };
  expect(body.errors).toBeUndefined();
  expect(body.data.users.nodes).toHaveLength(2);
  expect(typeof body.data.users.nodes[0].displayName).toBe('string');
});
