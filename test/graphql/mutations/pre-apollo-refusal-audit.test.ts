import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../../src/app.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { capturingLogger, logRecordsOf } from '../../support/log-capture.js';
import { loadSandboxConfig } from '../../support/sandbox-config.js';
import { apiKeyCallers } from '../../support/api-key-callers.js';

/**
 * A mutation attempt refused before Apollo ran it, or refused by Apollo before any plugin could
 * name its fields, leaves exactly one `refused` audit event (docs/security.md#audit-of-refused-requests):
 * variables nested too deep, a cross-site (CSRF) request, a mutation by GET, an unknown
 * operationName, a syntax error, a mutation after a query or a fragment past the token limit, a
 * GET refused at authentication. Real sockets, a real
 * gateway (src/app.ts) over the emulator; nothing of ours mocked. Queries refused the same way
 * leave none, and no event or metric label holds the caller's text.
 */

const KEY = 'pre-apollo-refusal-audit-key-0123456789';
const PASSWORD = 'Pre-Apollo!Refused#Secret9';
const TARGET = 'megan.bowen@contoso.example';
/**
 * The operation name the document gives: a GraphQL name, so kept as every event keeps one
 * (docs/security.md#operation-names-in-audit-events); the request's JSON `operationName` never is.
 */
const CALLER_NAME = 'CallerChosenName_x9q';
const AUTH_FAILURE_LIMIT = 3;

let emulator: TestEmulator;
let app: App;
const logLines: string[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  const config = loadSandboxConfig(emulator, {
    ...apiKeyCallers({ responder: { key: KEY, permissions: ['Gateway.Admin', 'Users.Read'] } }),
    MAX_TOKENS: '300',
    AUTH_FAILURE_LIMIT: String(AUTH_FAILURE_LIMIT),
    LOG_LEVEL: 'info',
  });
  app = await startApp(config, { emulator, logger: capturingLogger(logLines, 'info') });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await emulator?.close();
});

const auditEvents = () => logRecordsOf(logLines).filter((r) => r.audit === true);

const CHANGE_PASSWORD = `changePassword(input: {user: "${TARGET}", password: "${PASSWORD}"}) { __typename }`;
const MUTATION = `mutation ${CALLER_NAME} { ${CHANGE_PASSWORD} }`;
const QUERY = `query ${CALLER_NAME} { user(id: "${TARGET}") { id } }`;

let sequence = 0;

/**
 * Sends one request and returns its status, its answer and the audit events it added (found by
 * the request's own correlation id), after checking that Graph was sent nothing.
 */
async function attempt(
  init: { method?: string; path?: string; body?: string; headers?: Record<string, string> },
  options: { graphMayBeCalled?: boolean } = {},
): Promise<{ status: number; body: any; events: Array<Record<string, any>> }> {
  await emulator.resetStats();
  const correlationId = `pre-apollo-${(sequence += 1)}-${Date.now()}`;
  const res = await fetch(`${app.url}${init.path ?? '/graphql'}`, {
    method: init.method ?? 'POST',
    headers: { 'x-api-key': KEY, 'x-correlation-id': correlationId, ...init.headers },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!options.graphMayBeCalled) expect((await emulator.stats()).graphRequests).toBe(0);
  return { status: res.status, body, events: auditEvents().filter((e) => e.correlationId === correlationId) };
}

const json = { 'content-type': 'application/json' };
const post = (payload: Record<string, unknown>, headers: Record<string, string> = json) => ({ body: JSON.stringify(payload), headers });
const get = (params: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'GET',
  path: `/graphql?${new URLSearchParams(params).toString()}`,
  headers,
});
const deep = (levels: number): unknown => (levels === 0 ? 'x' : { a: deep(levels - 1) });

const refusedChangePassword = (reason: string, httpStatus: number, reasonDetail?: string) => ({
  operation: 'changePassword',
  operationName: CALLER_NAME,
  outcome: 'refused',
  reason,
  httpStatus,
  caller: { kind: 'api-key', keyId: 'responder' },
  steps: [],
  requestIds: [],
  ...(reasonDetail ? { reasonDetail } : {}),
});

describe('refused before Apollo ran it: one event for a mutation, none for a query', () => {
  it('variables nested too deep', async () => {
    const refused = await attempt(post({ query: MUTATION, variables: { v: deep(40) } }));
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'VARIABLES_TOO_DEEP' });
    expect(refused.events).toHaveLength(1);
    expect(refused.events[0]).toMatchObject(refusedChangePassword('BAD_USER_INPUT', 400, 'VARIABLES_TOO_DEEP'));
    expect(refused.events[0]).not.toHaveProperty('clientAddress');
    expect(refused.events[0]).not.toHaveProperty('targetUser');

    const query = await attempt(post({ query: QUERY, variables: { v: deep(40) } }));
    expect(query.status).toBe(400);
    expect(query.events).toHaveLength(0);
  });

  it('a cross-site request (JSON sent as text/plain, no preflight header)', async () => {
    const refused = await attempt(post({ query: MUTATION }, { 'content-type': 'text/plain' }));
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].message).toMatch(/Cross-Site Request Forgery/);
    expect(refused.events).toHaveLength(1);
    expect(refused.events[0]).toMatchObject(refusedChangePassword('BAD_USER_INPUT', 400, 'BAD_REQUEST'));

    const query = await attempt(post({ query: QUERY }, { 'content-type': 'text/plain' }));
    expect(query.status).toBe(400);
    expect(query.events).toHaveLength(0);
  });

  it('a mutation by GET: refused as cross-site without a preflight header, 405 with one', async () => {
    const csrf = await attempt(get({ query: MUTATION }));
    expect(csrf.status).toBe(400);
    expect(csrf.events).toHaveLength(1);
    expect(csrf.events[0]).toMatchObject(refusedChangePassword('BAD_USER_INPUT', 400, 'BAD_REQUEST'));

    const refused = await attempt(get({ query: MUTATION }, { 'apollo-require-preflight': 'true' }));
    expect(refused.status).toBe(405);
    expect(refused.events).toHaveLength(1);
    expect(refused.events[0]).toMatchObject(refusedChangePassword('BAD_USER_INPUT', 405, 'BAD_REQUEST'));

    const query = await attempt(get({ query: `query Q { user(id: "${TARGET}") { id } }` }, { 'apollo-require-preflight': 'true' }), {
      graphMayBeCalled: true,
    });
    expect(query.status).toBe(200);
    expect(query.events).toHaveLength(0);
  });

  it('an unknown operationName', async () => {
    const refused = await attempt(post({ query: MUTATION, operationName: 'NoSuchOperation' }));
    expect(refused.status).toBe(400);
    expect(refused.events).toHaveLength(1);
    expect(refused.events[0]).toMatchObject(refusedChangePassword('BAD_USER_INPUT', 400, 'OPERATION_RESOLUTION_FAILURE'));

    const query = await attempt(post({ query: QUERY, operationName: 'NoSuchOperation' }));
    expect(query.status).toBe(400);
    expect(query.events).toHaveLength(0);
    // operationName picks the query of a document that also holds a mutation: no mutation was asked for.
    const picked = await attempt(post({ query: `${QUERY.replace(CALLER_NAME, 'Q')} ${MUTATION} {`, operationName: 'Q' }));
    expect(picked.status).toBe(400);
    expect(picked.events).toHaveLength(0);
  });

  it('a syntax error in a mutation after a query and a fragment', async () => {
    const document = `query Q { me { ...F } } fragment F on User { id displayName } # mutation in a comment\n mutation ${CALLER_NAME} { ${CHANGE_PASSWORD} `;
    const refused = await attempt(post({ query: document }));
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_PARSE_FAILED' });
    expect(refused.events).toHaveLength(1);
    expect(refused.events[0]).toMatchObject(refusedChangePassword('BAD_USER_INPUT', 400, 'GRAPHQL_PARSE_FAILED'));

    for (const query of [`${QUERY} {`, `query Q { user(id: "mutation { changePassword }") { id } `, '# mutation { changePassword }\n{ me { id }']) {
      const broken = await attempt(post({ query }));
      expect(broken.status).toBe(400);
      expect(broken.events).toHaveLength(0);
    }
  });

  it('a mutation after a query and a fragment, stopped by the token limit: the limit is the reason', async () => {
    const fields = Array.from({ length: 40 }, (_, i) => `a${i}: ${CHANGE_PASSWORD}`).join(' ');
    const refused = await attempt(post({ query: `query Q { me { ...F } } fragment F on User { id } mutation { ${fields} }` }));
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].message).toMatch(/more tha[nt] 300 tokens/);
    expect(refused.events).toHaveLength(1);
    expect(refused.events[0]).toMatchObject({ operation: 'changePassword', outcome: 'refused', reason: 'OPERATION_TOO_COMPLEX' });
  });

  it('several mutation fields: one event, operation "document", the fields of the schema listed', async () => {
    const refused = await attempt(
      post({
        query: `mutation { a: terminateSession(input: {user: "${TARGET}"}) { __typename } ${CHANGE_PASSWORD} notAField { x } }`,
        variables: { v: deep(40) },
      }),
    );
    expect(refused.events).toHaveLength(1);
    expect(refused.events[0]).toMatchObject({ operation: 'document', mutationFields: ['terminateSession', 'changePassword'], reason: 'BAD_USER_INPUT' });
  });

  it('a batch (refused: batching is off): one event for the mutation fields of all its documents', async () => {
    const refused = await attempt({
      body: JSON.stringify([{ query: QUERY }, { query: MUTATION }, { query: `mutation { terminateSession(input: {user: "${TARGET}"}) { __typename } }` }]),
      headers: json,
    });
    expect(refused.status).toBe(400);
    expect(refused.events).toHaveLength(1);
    // Its mutations are named differently (one has no name): the event keeps none.
    expect(refused.events[0]).toMatchObject({
      operation: 'document',
      mutationFields: ['changePassword', 'terminateSession'],
      reason: 'BAD_USER_INPUT',
      operationName: null,
    });

    const queries = await attempt({ body: JSON.stringify([{ query: QUERY }, { query: QUERY }]), headers: json });
    expect(queries.status).toBe(400);
    expect(queries.events).toHaveLength(0);
  });

  it('a mutation naming no field of the schema: no event', async () => {
    const refused = await attempt(post({ query: 'mutation { noSuchMutation { x } }', variables: { v: deep(40) } }));
    expect(refused.status).toBe(400);
    expect(refused.events).toHaveLength(0);
  });

  it('an oversized body: refused, and not audited (its document is not read)', async () => {
    const refused = await attempt(post({ query: MUTATION, padding: 'x'.repeat(1_100_000) }));
    expect(refused.status).toBe(413);
    expect(refused.events).toHaveLength(0);
  });
});

describe('refused at authentication', () => {
  it('a GET mutation with a wrong key: one event naming the client address; a POST body is never read', async () => {
    const refused = await attempt({ ...get({ query: MUTATION }), headers: { 'x-api-key': 'wrong-key-0123456789-0123456789' } });
    expect(refused.status).toBe(401);
    expect(refused.events).toHaveLength(1);
    expect(refused.events[0]).toMatchObject({
      operation: 'changePassword',
      reason: 'UNAUTHENTICATED',
      httpStatus: 401,
      caller: { kind: 'unknown' },
      clientAddress: '127.0.0.1',
    });

    const unread = await attempt({ ...post({ query: MUTATION }), headers: { ...json, 'x-api-key': 'wrong-key-0123456789-0123456789' } });
    expect(unread.status).toBe(401);
    expect(unread.events).toHaveLength(0);
    const query = await attempt({ ...get({ query: QUERY }), headers: { 'x-api-key': 'wrong-key-0123456789-0123456789' } });
    expect(query.status).toBe(401);
    expect(query.events).toHaveLength(0);
  });

  it('past the failed-authentication limit: THROTTLED, not audited (a stranger could write events at will)', async () => {
    // Three failures above used up the address's budget; each 401 was counted, so at most
    // AUTH_FAILURE_LIMIT of them are audited per window.
    const refused = await attempt(get({ query: MUTATION }));
    expect(refused.status).toBe(429);
    expect(refused.events).toHaveLength(0);
  });
});

it('no log line holds a password; audit lines hold the document operation name only as operationName; audit metric labels are schema fields', async () => {
  const text = logLines.join('\n');
  expect(text).toContain('"outcome":"refused"');
  expect(text).not.toContain(PASSWORD);
  const auditText = logLines.filter((l) => l.includes('"audit":true')).join('\n');
  expect(auditText.split(CALLER_NAME).length - 1).toBe(auditText.split(`"operationName":"${CALLER_NAME}"`).length - 1);
  expect(auditText).not.toContain('noSuchMutation');
  expect(auditText).not.toContain('NoSuchOperation');
  const metric = await app.metrics.registry.getSingleMetricAsString('gateway_audit_events_total');
  const operations = [...metric.matchAll(/operation="([^"]*)"/g)].map((m) => m[1]);
  expect(operations.length).toBeGreaterThan(0);
  for (const operation of operations) expect(['changePassword', 'terminateSession', 'document', 'signIn']).toContain(operation);
});

describe('CALLER_AUTH=none', () => {
  let local: App;
  const localLines: string[] = [];
  beforeAll(async () => {
    local = await startApp(loadSandboxConfig(emulator, { CALLER_AUTH: 'none', LOG_LEVEL: 'info' }), {
      emulator,
      logger: capturingLogger(localLines, 'info'),
    });
  }, 60_000);
  afterAll(async () => {
    await local?.close();
  });

  const send = async (headers: Record<string, string>) => {
    const correlationId = `pre-apollo-local-${(sequence += 1)}-${Date.now()}`;
    const res = await fetch(`${local.url}/graphql?${new URLSearchParams({ query: MUTATION }).toString()}`, {
      headers: { 'x-correlation-id': correlationId, ...headers },
    });
    await res.arrayBuffer();
    return { status: res.status, events: logRecordsOf(localLines).filter((r) => r.audit === true && r.correlationId === correlationId) };
  };

  it('a local GET mutation refused as cross-site: one event, the anonymous caller', async () => {
    const refused = await send({});
    expect(refused.status).toBe(400);
    expect(refused.events).toHaveLength(1);
    expect(refused.events[0]).toMatchObject({ operation: 'changePassword', reason: 'BAD_USER_INPUT', caller: { kind: 'anonymous' } });
  });

  it('a loopback refusal (another origin) is not audited: it is not counted, so a page could repeat it at will', async () => {
    const refused = await send({ origin: 'https://elsewhere.example' });
    expect(refused.status).toBe(403);
    expect(refused.events).toHaveLength(0);
  });
});
