import { Writable } from 'node:stream';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * OpenTelemetry traces over the real app (production configuration, API-key callers) and the
 * emulator, exported to an in-memory exporter (docs/operations.md#traces): the span tree of a
 * batched query, retries and throttling as events, the caller's `traceparent` as the parent and on
 * every Graph request, and no secret anywhere in a span.
 */
const API_KEY = 'trace-test-key-4f1c9a7e2b6d8035';
const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_PARENT_ID = '00f067aa0ba902b7';

const quiet = () => createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

function configFor(emulator: TestEmulator, env: Record<string, string> = {}) {
  return loadSandboxConfig(emulator, {
    NODE_ENV: 'production',
    DEPLOYMENT_MODE: 'self-deployed',
    ...apiKeyCallers({
      tracer: { key: API_KEY, permissions: ['Users.Read', 'Users.ReadMemberships', 'Users.Write', 'Users.ChangePassword', 'Users.ManageAuthMethods'] },
    }),
    MAX_RETRIES: '2',
    // Lookups go to Graph as they come, so the span tree does not depend on timing.
    COALESCE_WINDOW_MS: '0',
    ...env,
  });
}

async function post(app: App, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, ...headers },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: Array<{ extensions?: { code?: string } }> } };
}

function clientSecretOf(app: App): string[] {
  const credential = app.config.selfDeployed?.credential;
  return credential?.kind === 'secret' ? [credential.secret.reveal()] : [];
}

const operationSpans = (spans: ReadableSpan[]) => spans.filter((s) => s.attributes['http.route'] === '/graphql');
const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) => spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

describe('traces with an in-memory exporter', () => {
  let emulator: TestEmulator;
  let app: App;
  const exporter = new InMemorySpanExporter();

  /** The spans of the operations answered so far, once their server spans have ended and been exported. */
  async function finishedSpans(operations: number): Promise<ReadableSpan[]> {
    for (let i = 0; i < 100; i++) {
      await app.tracing.flush();
      const spans = exporter.getFinishedSpans();
      if (operationSpans(spans).length >= operations) return spans;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`expected ${operations} operation span(s), got ${operationSpans(exporter.getFinishedSpans()).length}`);
  }

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 60 });
    app = await startApp(configFor(emulator), { emulator, logger: quiet(), spanExporter: exporter });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await emulator?.close();
  });
  beforeEach(async () => {
    await emulator.setFaults({ throttleRate: 0, unavailableRate: 0 });
    await app.tracing.flush();
    exporter.reset();
    await emulator.resetStats();
  });

  it('a batched query: operation span → Graph exchange spans, the $batch items as attributes, request ids recorded', async () => {
    const answer = await post(app, 'query Team { users(first: 5) { nodes { id memberOf(first: 2) { nodes { id } } } } }');
    expect(answer.body.errors).toBeUndefined();
    const spans = await finishedSpans(1);
    const [operation] = operationSpans(spans);
    expect(operation!.name).toBe('query Team');
    expect(operation!.attributes).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'Team',
      'gateway.caller.kind': 'api-key',
      'http.response.status_code': 200,
      'gateway.upstream_requests': 2,
    });
    // Not a child of anything: nobody sent a traceparent.
    expect(operation!.parentSpanContext).toBeUndefined();

    const exchanges = childrenOf(spans, operation!);
    expect(exchanges.map((s) => s.name).sort()).toEqual(['GET /users', 'POST /$batch']);
    const list = exchanges.find((s) => s.name === 'GET /users')!;
    expect(list.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.template': '/v1.0/users',
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
    });
    const batch = exchanges.find((s) => s.name === 'POST /$batch')!;
    expect(batch.attributes['msgraph.batch.size']).toBe(5);
    expect(batch.attributes['msgraph.batch.items']).toEqual(Array.from({ length: 5 }, () => 'GET /users/{id}/memberOf 200'));
    for (const exchange of exchanges) {
      expect(exchange.kind).toBe(2 /* SpanKind.CLIENT */);
      expect(exchange.spanContext().traceId).toBe(operation!.spanContext().traceId);
      expect(exchange.attributes['msgraph.client_request_id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(exchange.attributes['msgraph.request_id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    // The emulator counted the same two Graph requests.
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(2);
    expect(stats.batch.requests).toBe(1);
  });

  it("the caller's traceparent becomes the parent, and every Graph request carries the exchange span's context", async () => {
    const answer = await post(app, '{ users(first: 3) { nodes { id memberOf(first: 1) { nodes { id } } } } }', undefined, {
      traceparent: `00-${CALLER_TRACE_ID}-${CALLER_PARENT_ID}-01`,
    });
    expect(answer.body.errors).toBeUndefined();
    const spans = await finishedSpans(1);
    const [operation] = operationSpans(spans);
    expect(operation!.spanContext().traceId).toBe(CALLER_TRACE_ID);
    expect(operation!.parentSpanContext?.spanId).toBe(CALLER_PARENT_ID);
    expect(operation!.parentSpanContext?.isRemote).toBe(true);

    const exchanges = childrenOf(spans, operation!);
    expect(exchanges).toHaveLength(2);
    const received = (await emulator.stats()).traceparents;
    expect(received).toHaveLength(2);
    expect(received.sort()).toEqual(exchanges.map((s) => `00-${CALLER_TRACE_ID}-${s.spanContext().spanId}-01`).sort());
  });

  it('a malformed traceparent is ignored: a new trace, no error', async () => {
    const answer = await post(app, '{ users(first: 1) { nodes { id } } }', undefined, { traceparent: `00-${'0'.repeat(32)}-${CALLER_PARENT_ID}-01` });
    expect(answer.body.errors).toBeUndefined();
    const [operation] = operationSpans(await finishedSpans(1));
    expect(operation!.parentSpanContext).toBeUndefined();
    expect(operation!.spanContext().traceId).not.toBe('0'.repeat(32));
  });

  it('a throttled call: each 429 with its Retry-After is an event on the exchange span', async () => {
    const target = [...emulator.tenant.users.values()][3]!;
    await emulator.setFaults({ throttleRate: 1, retryAfterSeconds: 1 });
    const answer = await post(app, 'query One($id: ID!) { user(id: $id) { id displayName } }', { id: target.id });
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('THROTTLED');
    const spans = await finishedSpans(1);
    const [operation] = operationSpans(spans);
    expect(operation!.attributes['gateway.error_codes']).toEqual(['THROTTLED']);
    expect(operation!.attributes['gateway.upstream_requests']).toBe(3);
    const [exchange, ...others] = childrenOf(spans, operation!);
    expect(others).toHaveLength(0);
    expect(exchange!.name).toBe('GET /users/{id}');
    expect(exchange!.attributes).toMatchObject({
      'http.response.status_code': 429,
      'error.type': '429',
      'msgraph.error_code': 'TooManyRequests',
      'http.request.resend_count': 2,
    });
    expect(exchange!.status.code).toBe(2 /* SpanStatusCode.ERROR */);
    const retries = exchange!.events.filter((e) => e.name === 'msgraph.retry');
    expect(retries.map((e) => e.attributes)).toEqual([
      expect.objectContaining({ 'msgraph.retry.attempt': 1, 'msgraph.retry.reason': '429', 'http.response.status_code': 429, 'msgraph.retry_after_s': 1 }),
      expect.objectContaining({ 'msgraph.retry.attempt': 2, 'msgraph.retry.reason': '429', 'http.response.status_code': 429, 'msgraph.retry_after_s': 1 }),
    ]);
    for (const event of retries) expect(event.attributes!['msgraph.retry.wait_ms']).toBeGreaterThanOrEqual(1_000);
    expect((await emulator.stats()).faults.throttled).toBe(3);
  }, 30_000);

  it('a $batch envelope answered 503: the next round is a new exchange span with the retry as its event', async () => {
    const users = [...emulator.tenant.users.values()].slice(0, 4);
    // Lookups by userPrincipalName share one $batch (docs/graph-facts.md#manager-and-bulk-lookup).
    const query = `{ ${users.map((u, i) => `u${i}: user(id: "${u.userPrincipalName}") { id }`).join(' ')} }`;
    await emulator.setFaults({ unavailableRate: 1, retryAfterSeconds: 1 });
    const failed = await post(app, query);
    expect(failed.body.errors?.length).toBeGreaterThan(0);
    const spans = await finishedSpans(1);
    const [operation] = operationSpans(spans);
    const envelopes = spans
      .filter((s) => s.name === 'POST /$batch')
      .sort((a, b) => Number(a.attributes['http.request.resend_count'] ?? 0) - Number(b.attributes['http.request.resend_count'] ?? 0));
    // The first envelope and MAX_RETRIES=2 more rounds, each its own exchange span under the operation.
    expect(envelopes).toHaveLength(3);
    expect(envelopes.map((s) => s.attributes['http.request.resend_count'])).toEqual([undefined, 1, 2]);
    for (const envelope of envelopes) {
      expect(envelope.parentSpanContext?.spanId).toBe(operation!.spanContext().spanId);
      expect(envelope.attributes['http.response.status_code']).toBe(503);
      // Graph answered the envelope, not the items: each is listed without a status.
      expect(envelope.attributes['msgraph.batch.items']).toEqual(Array.from({ length: 4 }, () => 'GET /users/{id} none'));
    }
    expect(envelopes[0]!.events.filter((e) => e.name === 'msgraph.retry')).toHaveLength(0);
    for (const [round, envelope] of envelopes.slice(1).entries()) {
      const retries = envelope.events.filter((e) => e.name === 'msgraph.retry');
      expect(retries.map((e) => e.attributes)).toEqual([
        expect.objectContaining({ 'msgraph.retry.attempt': round + 1, 'msgraph.retry.reason': '503', 'msgraph.retry.items': 4, 'msgraph.retry_after_s': 1 }),
      ]);
    }
    expect((await emulator.stats()).faults.unavailable).toBe(3);
  }, 30_000);

  it('no token, password, pass code or API key in any span name, attribute or event', async () => {
    const password = `Tr4ce!${Math.random().toString(36).slice(2, 10)}#Q`;
    const upn = `trace.secret.${Date.now()}@${emulator.tenant.domain}`;
    const created = await post(app, 'mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }', {
      input: { userPrincipalName: upn, displayName: 'Trace Secret', mailNickname: 'trace.secret', password, accountEnabled: false },
    });
    expect(created.body.errors).toBeUndefined();
    const id = created.body.data.createUser.user.id as string;
    const changed = await post(app, 'mutation($input: ChangePasswordInput!) { changePassword(input: $input) { user { id } } }', {
      input: { user: id, password: `${password}2` },
    });
    const tap = await post(
      app,
      `mutation { createTemporaryAccessPass(input: {user: "${id}", lifetimeInMinutes: 60}) { temporaryAccessPass { temporaryAccessPass } } }`,
    );
    const passCode = tap.body.data?.createTemporaryAccessPass?.temporaryAccessPass?.temporaryAccessPass as string | undefined;
    // A wrong key and a bearer token that is not one: refused, and neither is recorded.
    await post(app, '{ users(first: 1) { nodes { id } } }', undefined, { 'x-api-key': 'wrong-key-0123456789abcdef' });
    await post(app, `{ user(id: "${upn}") { id } }`, undefined, { 'x-api-key': '', authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' });
    const spans = await finishedSpans(5);

    const text = JSON.stringify(
      spans.map((s) => ({
        name: s.name,
        attributes: s.attributes,
        events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
        status: s.status,
      })),
    );
    const secrets = [API_KEY, password, `${password}2`, 'wrong-key-0123456789abcdef', ...clientSecretOf(app), ...(passCode ? [passCode] : [])];
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{4,}/); // no JWT (Graph's access tokens, the caller's bearer)
    expect(text).not.toMatch(/bearer/i);
    // Ids and UPNs stay out of URLs in spans: routes are templates.
    expect(text).not.toContain(upn);
    expect(text).not.toContain(id);
    expect(changed.body.errors).toBeUndefined();
    expect(passCode).toBeTruthy();
  }, 30_000);

  it('an operation name past 64 characters is left out of the span name and attribute, as in the logs and audit events', async () => {
    // A name is one token: without the rule, every span of a caller's operations carried up to
    // MAX_BODY_BYTES of it twice (name and attribute) to the collector.
    const name = `Q${'x'.repeat(200_000)}`;
    const answered = await post(app, `query ${name} { users(first: 1) { nodes { id } } }`);
    expect(answered.status).toBe(200);
    const [span] = operationSpans(await finishedSpans(1));
    expect(span!.name).toBe('query');
    expect(span!.attributes['graphql.operation.name']).toBeUndefined();
  });
});

describe('traces of the rate governor', () => {
  let emulator: TestEmulator;
  let app: App;
  const exporter = new InMemorySpanExporter();
  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 40 });
    // 10 RU per 10 s at 80 % headroom: 8 lookups at once, one more every 1.25 s, queueing at most 2 s.
    app = await startApp(configFor(emulator, { GRAPH_RU_PER_10S: '10', GRAPH_MAX_WAIT_MS: '2000' }), { emulator, logger: quiet(), spanExporter: exporter });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await emulator?.close();
  });

  it('a queued call carries the wait as an event; a refused one the refusal, and Graph never saw it', async () => {
    await emulator.resetStats();
    const ids = [...emulator.tenant.users.values()].slice(0, 20).map((u) => u.id);
    const answers = await Promise.all(ids.map((id) => post(app, 'query($id: ID!) { user(id: $id) { id } }', { id })));
    const refused = answers.filter((a) => a.body.errors?.[0]?.extensions?.code === 'THROTTLED');
    expect(refused.length).toBeGreaterThan(0);
    await app.tracing.flush();
    for (let i = 0; i < 100 && operationSpans(exporter.getFinishedSpans()).length < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      await app.tracing.flush();
    }
    const exchanges = exporter.getFinishedSpans().filter((s) => s.name === 'GET /users/{id}');
    expect(exchanges).toHaveLength(20);
    const queued = exchanges.filter((s) => s.events.some((e) => e.name === 'msgraph.governor.queued'));
    const refusedSpans = exchanges.filter((s) => s.events.some((e) => e.name === 'msgraph.governor.refused'));
    expect(queued.length).toBeGreaterThan(0);
    expect(refusedSpans).toHaveLength(refused.length);
    for (const span of refusedSpans) {
      expect(span.events.find((e) => e.name === 'msgraph.governor.refused')!.attributes).toMatchObject({ 'error.type': 'THROTTLED' });
      // Not sent: no Graph request id, no status.
      expect(span.attributes['msgraph.request_id']).toBeUndefined();
      expect(span.attributes['http.response.status_code']).toBeUndefined();
    }
    expect((await emulator.stats()).graphRequests).toBe(20 - refused.length);
  }, 30_000);
});

describe('traces off (the default)', () => {
  let emulator: TestEmulator;
  let app: App;
  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 20 });
    app = await startApp(configFor(emulator), { emulator, logger: quiet() });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await emulator?.close();
  });

  it('starts no SDK and sends no trace context upstream, whatever the caller sent', async () => {
    expect(app.config.tracing).toEqual({ exporter: 'none' });
    expect(app.tracing.enabled).toBe(false);
    await emulator.resetStats();
    const answer = await post(app, '{ users(first: 3) { nodes { id memberOf(first: 1) { nodes { id } } } } }', undefined, {
      traceparent: `00-${CALLER_TRACE_ID}-${CALLER_PARENT_ID}-01`,
    });
    expect(answer.body.errors).toBeUndefined();
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(2);
    expect(stats.traceparents).toEqual([]);
  });
});
