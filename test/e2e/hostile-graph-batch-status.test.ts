import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { answerJson, startAppBehindHostileGraph, type AppBehindHostileGraph, type HostileGraph } from '../support/hostile-graph.js';

/**
 * Each `$batch` item's status becomes the `status` label of gateway_upstream_requests_total. A Graph
 * answering every item with a status it made up (a number no HTTP answer has: 7919000.5, -1, 1e9)
 * added a series per number: 20 operations of 20 items each made 400 series, and they are never
 * dropped. Production configuration, a caller allowed only to read.
 */
let graph: HostileGraph;
let app: App;
const key = randomBytes(24).toString('base64url');

let setup: AppBehindHostileGraph;

beforeAll(async () => {
  setup = await startAppBehindHostileGraph({ userCount: 30, env: { LOG_LEVEL: 'silent' }, callers: { reader: { key, permissions: ['Users.Read'] } } });
  ({ graph, app } = setup);
}, 60_000);

afterAll(() => setup?.close());

const statusLabels = async (): Promise<string[]> => {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('gateway_upstream_requests_total{'))
    .map((line) => /status="([^"]*)"/.exec(line)?.[1] ?? '');
};

it('made-up item statuses are items without a status: one label for all of them, and the caller gets UPSTREAM_ERROR', async () => {
  let made = 1000;
  const weird = () => [made++ * 7919 + 0.5, -made++, made++ * 1e6, 99, 600][made % 5]!;
  let batches = 0;
  graph.answer = (req, res) => {
    if (req.method !== 'POST' || !req.url.startsWith('/v1.0/$batch')) return false;
    batches += 1;
    const items = (JSON.parse(req.body) as { requests: Array<{ id: string }> }).requests;
    return answerJson(res, 200, { responses: items.map((item) => ({ id: item.id, status: weird(), body: {} })) });
  };
  let last: { errors?: Array<{ message: string; extensions: { code: string } }> } = {};
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ query: '{ users(first: 20) { nodes { id directReports(first: 5) { nodes { id } } } } }' }),
    });
    last = (await res.json()) as typeof last;
  }
  graph.answer = () => false;
  expect(batches).toBeGreaterThanOrEqual(20);
  expect(last.errors?.[0]?.extensions.code).toBe('UPSTREAM_ERROR');
  expect(last.errors?.[0]?.message).toBe('Microsoft Graph sent a $batch item without a status.');
  const labels = await statusLabels();
  // HTTP statuses, the transport's own words, and 0 for an item without one: nothing Graph made up.
  for (const label of labels) expect(label).toMatch(/^(?:[1-5]\d\d|0|aborted|too_large|connect|network|timeout)$/);
  expect(labels.length).toBeLessThan(20);
});
