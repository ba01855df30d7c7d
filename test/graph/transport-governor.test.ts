import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGraphClient, type GraphClientDeps } from '../../src/graph/client.js';
import type { GraphGovernor } from '../../src/graph/governor.js';
import { createLocalRateLimiter } from '../../src/graph/rate-limiter.js';
import { graphPaths } from '../../src/graph/paths.js';
import type { UpstreamHttp } from '../../src/http/upstream.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { startScriptedGraph, type ScriptedGraph, type SeenRequest } from '../support/scripted-graph.js';

/**
 * The transport's side of the governor and retries, over a scripted loopback server (shapes the
 * emulator does not produce on demand): `$batch` envelopes priced by their items, a throttled
 * `$batch` item pausing the tenant, a refusal that never reaches the wire, and `Retry-Attempt`.
 */

let scripted: ScriptedGraph;
let origin: string;
let upstream: UpstreamHttp;
let script: (req: SeenRequest, res: ServerResponse) => void;
let seen: SeenRequest[] = [];

beforeAll(async () => {
  scripted = await startScriptedGraph((entry, res) => {
    seen.push(entry);
    script(entry, res);
  });
  ({ origin, upstream } = scripted);
});

afterAll(() => scripted.close());

beforeEach(() => {
  seen = [];
});

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

/** A governor whose clock stands still, so its buckets only change by what the transport takes. */
function frozenGovernor(resourceUnitsPer10s: number, extra: { maxWaitMs?: number } = {}): GraphGovernor {
  const t = 1_000_000;
  return createLocalRateLimiter({ resourceUnitsPer10s, headroom: 1, now: () => t, ...extra });
}

function client(governor: GraphGovernor, overrides: Partial<GraphClientDeps> = {}) {
  const sleeps: number[] = [];
  return {
    sleeps,
    client: createGraphClient({
      upstream,
      tokenSource: { partition: 'test', getAccessToken: async () => 'token' },
      graphEndpoint: origin,
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics({ defaultMetrics: false }),
      correlationId: 'corr',
      requestTimeoutMs: 2_000,
      governor,
      retry: {
        random: () => 0.5,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
      ...overrides,
    }),
  };
}

const getUser = (id: string) => ({ method: 'GET' as const, path: graphPaths.user(id), query: { $select: 'id' } });

describe('governor in the transport', () => {
  it('charges a $batch envelope the sum of its items, and a plain request its own cost', async () => {
    script = (req, res) => {
      if (req.url.endsWith('/$batch')) {
        const { requests } = JSON.parse(req.body) as { requests: Array<{ id: string }> };
        send(res, 200, { responses: requests.map((r) => ({ id: r.id, status: 200, body: { id: `u${r.id}` } })) });
      } else send(res, 200, { value: [] });
    };
    const governor = frozenGovernor(100);
    const { client: graph } = client(governor);

    // Three `GET /users/{id}?$select=id`: 1 RU each, in one envelope.
    const results = await graph.batch([getUser('a'), getUser('b'), getUser('c')]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(seen).toHaveLength(1);
    expect(governor.snapshot().resourceUnits).toBe(97);

    // `GET /users` without $select: 2 RU.
    await graph.request({ method: 'GET', path: graphPaths.users() });
    expect(governor.snapshot().resourceUnits).toBe(95);
    expect(governor.snapshot().inFlight).toBe(0);
  });

  it('refuses with THROTTLED and a retry hint, without a request on the wire, when capacity would take too long', async () => {
    script = (_req, res) => send(res, 200, { id: 'x' });
    const governor = frozenGovernor(2, { maxWaitMs: 0 });
    const { client: graph } = client(governor);
    expect((await graph.request(getUser('a'))).ok).toBe(true);
    expect((await graph.request(getUser('b'))).ok).toBe(true);
    const refused = await graph.request(getUser('c'));
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe('THROTTLED');
    expect(refused.error.extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(seen).toHaveLength(2);
  });

  it('pauses the tenant for the longest Retry-After of a throttled $batch item', async () => {
    script = (req, res) => {
      const { requests } = JSON.parse(req.body) as { requests: Array<{ id: string }> };
      send(res, 200, {
        responses: requests.map((r, i) =>
          i === 0
            ? { id: r.id, status: 429, headers: { 'Retry-After': '30' }, body: { error: { code: 'TooManyRequests', message: 'later' } } }
            : { id: r.id, status: 200, body: { id: `u${r.id}` } },
        ),
      });
    };
    const governor = frozenGovernor(100);
    const { client: graph } = client(governor);
    const results = await graph.batch([getUser('a'), getUser('b')]);
    expect(results.map((r) => r.ok)).toEqual([false, true]);
    expect(governor.snapshot().pausedForMs).toBe(30_000);
  });

  it('pauses the tenant on a plain 503 with Retry-After', async () => {
    script = (_req, res) => send(res, 503, { error: { code: 'serviceNotAvailable', message: 'busy' } }, { 'retry-after': '40' });
    const governor = frozenGovernor(100);
    const { client: graph } = client(governor, { maxRetries: 0 });
    const result = await graph.request(getUser('a'));
    expect(result.ok).toBe(false);
    expect(governor.snapshot().pausedForMs).toBe(40_000);
  });
});

describe('Retry-Attempt', () => {
  it('is absent on the first attempt and counts the repeats (docs/graph-facts.md#retries)', async () => {
    let n = 0;
    script = (_req, res) => {
      n += 1;
      if (n <= 2) send(res, 429, { error: { code: 'TooManyRequests', message: 'later' } }, { 'retry-after': '0' });
      else send(res, 200, { id: 'a' });
    };
    const { client: graph, sleeps } = client(frozenGovernor(100));
    const result = await graph.request(getUser('a'));
    expect(result.ok).toBe(true);
    expect(sleeps).toHaveLength(2);
    expect(seen.map((s) => s.headers['retry-attempt'])).toEqual([undefined, '1', '2']);
  });
});
