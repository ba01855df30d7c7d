import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGraphClient, type GraphClientDeps } from '../../src/graph/client.js';
import { graphPaths } from '../../src/graph/paths.js';
import type { UpstreamHttp } from '../../src/http/upstream.js';
import type { GraphTokenSource } from '../../src/identity/types.js';
import { createMetrics } from '../../src/metrics.js';
import { freePort } from '../support/net.js';
import { capturingLogger } from '../support/log-capture.js';
import { startScriptedGraph, type ScriptedGraph, type SeenRequest } from '../support/scripted-graph.js';

/**
 * Transport behaviour the emulator cannot be made to show on demand (a 401 with a stale token,
 * envelope-level $batch failures, answers out of order, dropped connections, hangs): a scripted
 * HTTP server on loopback answers, the real client and HTTP layer talk to it over a socket.
 */

type Script = (req: SeenRequest, res: ServerResponse, n: number) => void;

let scripted: ScriptedGraph;
let origin: string;
let upstream: UpstreamHttp;
let script: Script;
let seen: SeenRequest[] = [];

beforeAll(async () => {
  scripted = await startScriptedGraph((entry, res) => {
    seen.push(entry);
    script(entry, res, seen.length);
  });
  ({ origin, upstream } = scripted);
});

afterAll(() => scripted.close());

beforeEach(() => {
  seen = [];
});

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `rid-${status}`, ...headers });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

const graphError = (code: string, message = 'msg') => ({ error: { code, message, innerError: { 'request-id': 'inner-rid' } } });

function harness(overrides: Partial<GraphClientDeps> = {}) {
  const logLines: string[] = [];
  let tokenCount = 0;
  let invalidations = 0;
  const tokenSource: GraphTokenSource = {
    partition: 'test',
    getAccessToken: async () => `secret-token-${++tokenCount}`,
    invalidate: () => {
      invalidations += 1;
    },
  };
  const metrics = createMetrics({ defaultMetrics: false });
  const sleeps: number[] = [];
  const client = createGraphClient({
    upstream,
    tokenSource,
    graphEndpoint: origin,
    logger: capturingLogger(logLines, 'debug'),
    metrics,
    correlationId: 'corr-1',
    requestTimeoutMs: 2000,
    retry: {
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
    ...overrides,
  });
  return { client, metrics, logLines, sleeps, invalidations: () => invalidations };
}

async function metricValue(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{ labels: Record<string, string | number>; value: number }>;
  return values.filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val)).reduce((s, v) => s + v.value, 0);
}

describe('single requests', () => {
  it('sends bearer, accept and a fresh GUID client-request-id; logs the route template but never the token', async () => {
    // A lookup by UPN selects userPrincipalName too, and Graph's answer names the UPN asked (src/graph/user-answer.ts).
    script = (_req, res) => send(res, 200, { id: 'u1', displayName: 'A', userPrincipalName: 'u1@contoso.example' }, { 'request-id': 'graph-rid-1' });
    const { client, logLines, metrics } = harness();
    await client.getUser('u1@contoso.example', ['displayName']);
    await client.getUser('u1@contoso.example', ['displayName']);
    expect(seen).toHaveLength(2);
    const [a, b] = seen;
    expect(a!.headers.authorization).toBe('Bearer secret-token-1');
    expect(a!.headers.accept).toBe('application/json');
    expect(a!.headers['client-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a!.headers['client-request-id']).not.toBe(b!.headers['client-request-id']);
    expect(a!.url).toBe('/v1.0/users/u1@contoso.example?$select=id,displayName,userPrincipalName');
    const logs = logLines.join('');
    expect(logs).toContain('"route":"GET /users/{id}"');
    expect(logs).toContain('"requestId":"graph-rid-1"');
    expect(logs).toContain('"status":200');
    expect(logs).toContain('"durationMs"');
    expect(logs).not.toContain('secret-token');
    expect(logs).not.toContain('u1@contoso.example');
    expect(await metricValue(metrics, 'gateway_upstream_requests_total', { route: 'GET /users/{id}', status: '200' })).toBe(2);
  });

  it('on 401 invalidates the token once and retries once with a new one', async () => {
    script = (req, res, n) => (n === 1 ? send(res, 401, graphError('InvalidAuthenticationToken')) : send(res, 200, { id: 'u1' }));
    const h = harness();
    expect(await h.client.getUser('u1', [])).toEqual({ id: 'u1' });
    expect(h.invalidations()).toBe(1);
    expect(seen.map((s) => s.headers.authorization)).toEqual(['Bearer secret-token-1', 'Bearer secret-token-2']);
  });

  it('a second 401 is UPSTREAM_ERROR (the gateway credentials), not the caller', async () => {
    script = (_req, res) => send(res, 401, graphError('InvalidAuthenticationToken'));
    const h = harness();
    await expect(h.client.getUser('u1', [])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', extensions: { requestId: 'rid-401' } });
    expect(seen).toHaveLength(2);
  });

  it('retries 429/503/504 honouring Retry-After, counting retries by reason', async () => {
    const answers = [
      () => ({ status: 429, headers: { 'retry-after': '2' } }),
      () => ({ status: 503, headers: { 'retry-after': '1' } }),
      () => ({ status: 504, headers: {} as Record<string, string> }),
      () => ({ status: 200, headers: {} as Record<string, string> }),
    ];
    script = (_req, res, n) => {
      const a = answers[n - 1]!();
      send(res, a.status, a.status === 200 ? { id: 'u1' } : graphError('X'), a.headers);
    };
    const h = harness();
    expect(await h.client.getUser('u1', [])).toEqual({ id: 'u1' });
    expect(h.sleeps).toEqual([2000, 1000, 1500]); // 504 had no Retry-After: backoff 500·2²·(0.75)
    for (const reason of ['429', '503', '504']) expect(await metricValue(h.metrics, 'gateway_upstream_retries_total', { reason })).toBe(1);
  });

  it('gives up after the bounded attempts with THROTTLED and a retry hint', async () => {
    script = (_req, res) => send(res, 429, graphError('TooManyRequests'), { 'retry-after': '1' });
    const h = harness({ maxRetries: 2 });
    await expect(h.client.getUser('u1', [])).rejects.toMatchObject({
      code: 'THROTTLED',
      extensions: { retryAfterSeconds: 1, graphErrorCode: 'TooManyRequests' },
    });
    expect(seen).toHaveLength(3);
  });

  it('does not wait past the total wait budget', async () => {
    script = (_req, res) => send(res, 503, graphError('serviceNotAvailable'), { 'retry-after': '120' });
    const h = harness();
    await expect(h.client.getUser('u1', [])).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', extensions: { retryAfterSeconds: 120 } });
    expect(seen).toHaveLength(1);
    expect(h.sleeps).toEqual([]);
  });

  it('repeats a write that Graph answered 429 or 503 (it did not apply it), idempotent or not; its outcome is FAILED', async () => {
    script = (_req, res, n) =>
      n % 2 === 1
        ? send(res, 429, graphError('TooManyRequests'), { 'retry-after': '0' })
        : send(res, 503, graphError('serviceNotAvailable'), { 'retry-after': '0' });
    const h = harness();
    const create = await h.client.request({ method: 'POST', path: graphPaths.users(), body: { displayName: 'x' } });
    expect(create).toMatchObject({ ok: false, outcome: 'failed', status: 503 });
    expect(seen).toHaveLength(4);
    seen = [];
    const revoke = await h.client.request({ method: 'POST', path: graphPaths.userSub('u1', 'revokeSignInSessions'), body: {}, effect: 'idempotent-write' });
    expect(revoke).toMatchObject({ ok: false, outcome: 'failed' });
    expect(seen).toHaveLength(4);
  });

  it('sends every POST, PATCH and PUT with a JSON body and Content-Type, {} for a body-less action; GET and DELETE with neither', async () => {
    script = (_req, res) => send(res, 200, { value: true });
    const h = harness();
    await h.client.request({ method: 'POST', path: graphPaths.userSub('u1', 'revokeSignInSessions') });
    await h.client.request({ method: 'DELETE', path: graphPaths.userSub('u1', 'manager/$ref') });
    await h.client.request({ method: 'GET', path: graphPaths.user('u1') });
    expect(seen.map((r) => [r.method, r.headers['content-type'], r.body])).toEqual([
      ['POST', 'application/json', '{}'],
      ['DELETE', undefined, ''],
      ['GET', undefined, ''],
    ]);
  });

  it('never repeats a write whose answer did not come in time: one request, outcome UNKNOWN with its client-request-id', async () => {
    script = () => undefined; // Graph received it and never answered in time
    const h = harness({ requestTimeoutMs: 150 });
    const result = await h.client.request({
      method: 'PATCH',
      path: graphPaths.user('u1'),
      body: { passwordProfile: { password: 'x' } },
      effect: 'idempotent-write',
    });
    expect(seen).toHaveLength(1);
    expect(result).toMatchObject({ ok: false, outcome: 'unknown', status: undefined, clientRequestId: seen[0]!.headers['client-request-id'] });
    expect(h.sleeps).toEqual([]);
    // A read in the same situation is repeated as before.
    seen = [];
    await h.client.request({ method: 'GET', path: graphPaths.user('u1') });
    expect(seen).toHaveLength(4);
  });

  it('never repeats a write whose connection broke after it was sent, nor one answered 502/504: outcome UNKNOWN', async () => {
    script = (_req, res) => res.socket?.destroy();
    const h = harness();
    const dropped = await h.client.request({ method: 'POST', path: graphPaths.users(), body: { displayName: 'x' } });
    expect(seen).toHaveLength(1);
    expect(dropped).toMatchObject({ ok: false, outcome: 'unknown' });
    for (const status of [502, 504]) {
      seen = [];
      script = (_req, res) => send(res, status, graphError('GatewayTimeout'));
      const answered = await h.client.request({ method: 'PATCH', path: graphPaths.user('u1'), body: { accountEnabled: false }, effect: 'idempotent-write' });
      expect(seen).toHaveLength(1);
      expect(answered).toMatchObject({ ok: false, outcome: 'unknown', status });
    }
    // A 500 is Graph's own answer: the write was not applied.
    seen = [];
    script = (_req, res) => send(res, 500, graphError('InternalServerError'));
    expect(await h.client.request({ method: 'PATCH', path: graphPaths.user('u1'), body: {}, effect: 'idempotent-write' })).toMatchObject({ outcome: 'failed' });
  });

  it('repeats a write whose connection was refused (nothing was sent), counting the retries as `connect`', async () => {
    const port = await freePort(); // nothing listens there
    const h = harness({ graphEndpoint: `http://127.0.0.1:${port}`, maxRetries: 2 });
    const result = await h.client.request({ method: 'PATCH', path: graphPaths.user('u1'), body: { accountEnabled: false }, effect: 'idempotent-write' });
    expect(result).toMatchObject({ ok: false, outcome: 'failed', error: { code: 'UPSTREAM_UNAVAILABLE', message: 'Microsoft Graph could not be reached.' } });
    expect(await metricValue(h.metrics, 'gateway_upstream_retries_total', { reason: 'connect' })).toBe(2);
  });

  it('retries a dropped connection and maps a persistent one to UPSTREAM_UNAVAILABLE', async () => {
    script = (_req, res, n) => (n === 1 ? res.socket?.destroy() : send(res, 200, { id: 'u1' }));
    const h = harness();
    expect(await h.client.getUser('u1', [])).toEqual({ id: 'u1' });
    expect(await metricValue(h.metrics, 'gateway_upstream_retries_total', { reason: 'network' })).toBe(1);
    seen = [];
    script = (_req, res) => res.socket?.destroy();
    await expect(h.client.getUser('u1', [])).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(seen).toHaveLength(4);
  });

  it('times out a hung call and does not leave it hanging', async () => {
    script = () => undefined; // never answers
    const h = harness({ requestTimeoutMs: 150, maxRetries: 1 });
    const started = Date.now();
    await expect(h.client.getUser('u1', [])).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await metricValue(h.metrics, 'gateway_upstream_retries_total', { reason: 'timeout' })).toBe(1);
  });

  it('a caller who goes away cancels the upstream call and the retry wait', async () => {
    script = () => undefined; // never answers
    const controller = new AbortController();
    const h = harness({ signal: controller.signal, requestTimeoutMs: 10_000 });
    const started = Date.now();
    const pending = h.client.getUser('u1', []);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: 'The request to Microsoft Graph was cancelled.' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(seen).toHaveLength(1);
  });

  it('maps 404 to null for get*, 403 to FORBIDDEN with the reason', async () => {
    script = (req, res) =>
      req.url.includes('missing')
        ? send(res, 404, graphError('Request_ResourceNotFound'))
        : send(res, 403, graphError('Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'));
    const h = harness();
    expect(await h.client.getUser('missing', [])).toBeNull();
    expect(await h.client.getManager('missing', [])).toBeNull();
    await expect(h.client.getUser('denied', [])).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Microsoft Graph denied the operation: Authorization_RequestDenied: Insufficient privileges to complete the operation.',
    });
  });

  it('refuses unaddressable ids before any upstream call', async () => {
    script = (_req, res) => send(res, 200, { id: 'x' });
    const h = harness();
    for (const id of ['', '..', 'a\u0000b', 'x'.repeat(300)]) await expect(h.client.getUser(id, [])).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(seen).toHaveLength(0);
  });
});

describe('$batch envelopes', () => {
  const itemsOf = (req: SeenRequest) => (JSON.parse(req.body) as { requests: Array<{ id: string; url: string }> }).requests;

  it('every failed call has one shape: code, status, Retry-After and request-id as fields, for items, envelopes and single calls alike', async () => {
    script = (req, res) => {
      if (req.url.endsWith('/$batch')) {
        // u1 stays throttled (its repeats included), u2 does not exist.
        return send(res, 200, {
          responses: itemsOf(req).map((i) =>
            i.url.startsWith('/users/u1')
              ? { id: i.id, status: 429, headers: { 'Retry-After': '7', 'request-id': 'item-rid' }, body: graphError('TooManyRequests') }
              : i.url.startsWith('/users/u4')
                ? { id: i.id, status: 403, headers: {}, body: graphError('Authorization_RequestDenied') }
                : { id: i.id, status: 404, headers: {}, body: { error: { code: 'Request_ResourceNotFound', message: 'gone' } } },
          ),
        });
      }
      send(res, 503, graphError('ServiceUnavailable'), { 'Retry-After': '3' });
    };
    const h = harness({ maxRetries: 0 });
    const [throttled, missing, denied] = await h.client.batch([
      { method: 'GET', path: graphPaths.user('u1') },
      { method: 'GET', path: graphPaths.user('u2') },
      { method: 'GET', path: graphPaths.user('u4') },
    ]);
    expect(throttled).toMatchObject({ ok: false, code: 'THROTTLED', status: 429, retryAfterSeconds: 7, requestId: 'item-rid', scope: 'item' });
    // Graph puts request-id on the envelope, not on items: the envelope's stands in.
    expect(missing).toMatchObject({ ok: false, code: 'NOT_FOUND', status: 404, retryAfterSeconds: undefined, requestId: 'rid-200', scope: 'item' });
    // An item's body that names its request-id (innerError) gives that one, before the envelope's.
    expect(denied).toMatchObject({ ok: false, code: 'FORBIDDEN', status: 403, requestId: 'inner-rid', scope: 'item' });
    const single = await h.client.request({ method: 'GET', path: graphPaths.user('u3') });
    expect(single).toMatchObject({ ok: false, code: 'UPSTREAM_UNAVAILABLE', status: 503, retryAfterSeconds: 3, requestId: 'rid-503', scope: 'item' });
    for (const failure of [throttled, missing, denied, single]) {
      if (failure!.ok) throw new Error('expected a failure');
      // The fields and the error the caller sees cannot disagree.
      expect(failure!.code).toBe(failure!.error.code);
      expect(failure!.requestId).toBe(failure!.error.extensions.requestId);
    }
  });

  it('matches answers given in any order', async () => {
    script = (req, res) => {
      const items = itemsOf(req).reverse();
      send(res, 200, { responses: items.map((i) => ({ id: i.id, status: 200, headers: {}, body: { url: i.url } })) });
    };
    const h = harness();
    const results = await h.client.batch(['a', 'b', 'c'].map((id) => ({ method: 'GET' as const, path: graphPaths.user(id) })));
    expect(results.map((r) => (r.ok ? (r.body as { url: string }).url : 'failed'))).toEqual(['/users/a', '/users/b', '/users/c']);
  });

  it('retries the items of a 424 envelope in a new batch after its Retry-After', async () => {
    script = (req, res, n) => {
      if (n === 1) return send(res, 424, graphError('TooManyRequests'), { 'retry-after': '3' });
      send(res, 200, { responses: itemsOf(req).map((i) => ({ id: i.id, status: 200, body: { ok: i.url } })) });
    };
    const h = harness();
    const results = await h.client.batch(['a', 'b'].map((id) => ({ method: 'GET' as const, path: graphPaths.user(id) })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(h.sleeps).toEqual([3000]);
    expect(seen).toHaveLength(2);
  });

  it('a non-retryable envelope failure fails every item as a batch-scoped value', async () => {
    script = (_req, res) => send(res, 400, graphError('BadRequest', 'Invalid batch payload.'));
    const h = harness();
    const results = await h.client.batch(['a', 'b'].map((id) => ({ method: 'GET' as const, path: graphPaths.user(id) })));
    expect(results.map((r) => (r.ok ? 'ok' : `${r.scope}:${r.error.code}`))).toEqual(['batch:BAD_USER_INPUT', 'batch:BAD_USER_INPUT']);
  });

  it('a missing item answer is a per-item error, the rest succeed', async () => {
    script = (req, res) =>
      send(res, 200, {
        responses: itemsOf(req)
          .slice(1)
          .map((i) => ({ id: i.id, status: 200, body: {} })),
      });
    const h = harness();
    const results = await h.client.batch(['a', 'b'].map((id) => ({ method: 'GET' as const, path: graphPaths.user(id) })));
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['UPSTREAM_ERROR', 'ok']);
  });

  it('splits at 20, observes batch sizes and counts each item under its own route template', async () => {
    script = (req, res) => send(res, 200, { responses: itemsOf(req).map((i) => ({ id: i.id, status: i.url.includes('gone') ? 404 : 200, body: {} })) });
    const h = harness();
    const reqs = Array.from({ length: 25 }, (_, i) => ({ method: 'GET' as const, path: graphPaths.userSub(i === 3 ? 'gone' : `u${i}`, 'manager') }));
    const results = await h.client.batch(reqs);
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : `${r.scope}:${r.error.code}`))).toEqual(['item:NOT_FOUND']);
    expect(seen.map((s) => itemsOf(s).length).sort()).toEqual([20, 5]);
    expect(await metricValue(h.metrics, 'gateway_upstream_requests_total', { route: 'GET /users/{id}/manager', status: '200' })).toBe(24);
    expect(await metricValue(h.metrics, 'gateway_upstream_requests_total', { route: 'GET /users/{id}/manager', status: '404' })).toBe(1);
    expect(await metricValue(h.metrics, 'gateway_upstream_requests_total', { route: 'POST /$batch', status: '200' })).toBe(2);
    const histogram = (await h.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'gateway_upstream_batch_items');
    const count = (histogram?.values as Array<{ metricName?: string; value: number }>).find((v) => v.metricName === 'gateway_upstream_batch_items_count');
    expect(count?.value).toBe(2);
  });

  it('repeats throttled write items (Graph did not apply them) and keeps their Retry-After', async () => {
    script = (req, res) =>
      send(res, 200, { responses: itemsOf(req).map((i) => ({ id: i.id, status: 429, headers: { 'Retry-After': '7' }, body: graphError('TooManyRequests') })) });
    const h = harness({ retry: { random: () => 0.5, sleep: async () => undefined, maxTotalWaitMs: 60_000 } });
    const results = await h.client.batch([
      { method: 'POST', path: graphPaths.users(), body: { a: 1 } },
      { method: 'POST', path: graphPaths.users(), body: { a: 2 } },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : `${r.error.code}:${r.outcome}:${String(r.error.extensions.retryAfterSeconds)}`))).toEqual([
      'THROTTLED:failed:7',
      'THROTTLED:failed:7',
    ]);
    expect(seen).toHaveLength(4);
  });

  it('every write item carries a body and Content-Type, {} for a body-less action (else Graph refuses the whole batch)', async () => {
    script = (req, res) => send(res, 200, { responses: itemsOf(req).map((i) => ({ id: i.id, status: 204 })) });
    const h = harness();
    await h.client.batch([
      { method: 'POST', path: graphPaths.userSub('u1', 'revokeSignInSessions') },
      { method: 'PATCH', path: graphPaths.user('u1'), body: { accountEnabled: false } },
      { method: 'DELETE', path: graphPaths.userSub('u1', 'manager/$ref') },
      { method: 'GET', path: graphPaths.user('u1') },
    ]);
    const items = JSON.parse(seen[0]!.body).requests as Array<Record<string, unknown>>;
    expect(items.map((i) => [i.method, i.headers, i.body])).toEqual([
      ['POST', { 'Content-Type': 'application/json' }, {}],
      ['PATCH', { 'Content-Type': 'application/json' }, { accountEnabled: false }],
      ['DELETE', undefined, undefined],
      ['GET', undefined, undefined],
    ]);
  });

  it('an envelope that times out: write items are not repeated and end UNKNOWN with its client-request-id; read items are repeated', async () => {
    script = (req, res, n) => {
      if (n === 1) return; // never answers in time
      send(res, 200, { responses: itemsOf(req).map((i) => ({ id: i.id, status: 200, body: { id: 'u1' } })) });
    };
    const h = harness({ requestTimeoutMs: 150 });
    const results = await h.client.batch([
      { method: 'POST', path: graphPaths.userSub('u1', 'revokeSignInSessions'), body: {}, effect: 'idempotent-write' },
      { method: 'GET', path: graphPaths.user('u1') },
    ]);
    expect(seen).toHaveLength(2);
    expect(itemsOf(seen[1]!).map((i) => i.url)).toEqual(['/users/u1']);
    expect(results[0]).toMatchObject({ ok: false, outcome: 'unknown', scope: 'batch', clientRequestId: seen[0]!.headers['client-request-id'] });
    expect(results[1]!.ok).toBe(true);
  });

  it('a 502/504 write item or one missing from the answer ends UNKNOWN and is not repeated; a 503 item is', async () => {
    script = (req, res, n) =>
      send(res, 200, {
        responses: itemsOf(req)
          .filter((i) => i.url !== '/users/gone')
          .map((i) => ({ id: i.id, status: n === 1 ? (i.url === '/users/a' ? 504 : i.url === '/users/b' ? 502 : 503) : 204, headers: { 'Retry-After': '0' } })),
      });
    const h = harness();
    const results = await h.client.batch(
      ['a', 'b', 'c', 'gone'].map((u) => ({
        method: 'PATCH' as const,
        path: graphPaths.user(u),
        body: { accountEnabled: false },
        effect: 'idempotent-write' as const,
      })),
    );
    expect(results.map((r) => (r.ok ? 'ok' : r.outcome))).toEqual(['unknown', 'unknown', 'ok', 'unknown']);
    expect(seen).toHaveLength(2);
    expect(itemsOf(seen[1]!).map((i) => i.url)).toEqual(['/users/c']);
  });
});
