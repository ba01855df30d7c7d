import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FRAGMENTS } from '../../../src/audit/unparsed-mutation.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { auditEvents } from './support.js';

/**
 * A mutation whose fields stand in a named fragment (`mutation { ...F } fragment F on Mutation {
 * terminateSession(...) }`) is audited when it is refused before Apollo parsed it or by the token
 * limit, as one whose fields stand at its root (docs/security.md#audit-of-refused-requests): before,
 * such a document left no event. The bounded reader follows spreads at the root, each fragment
 * once, at most MAX_FRAGMENTS of them; 4 MB of chains and cycles are answered in about a second
 * (bound: 5 s, for shared CPUs). Real gateway
 * over the emulator, real sockets.
 */

let emulator: TestEmulator;
let gw: TestGateway;
const TARGET = 'megan.bowen@contoso.example';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  gw = await startTestGateway({ emulator, env: { DEPLOYMENT_MODE: 'self-deployed', MAX_TOKENS: '300', MAX_BODY_BYTES: '5000000' } });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

let sequence = 0;

async function send(body: string): Promise<{ status: number; ms: number; errors: any; events: Array<Record<string, any>> }> {
  await emulator.resetStats();
  const correlationId = `fragment-refusal-${(sequence += 1)}-${Date.now()}`;
  const started = performance.now();
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId },
    body,
  });
  const answer = (await res.json()) as { errors?: unknown };
  const ms = performance.now() - started;
  expect((await emulator.stats()).graphRequests).toBe(0);
  return { status: res.status, ms, errors: answer.errors, events: auditEvents(gw).filter((e) => e.correlationId === correlationId) };
}

const terminate = `terminateSession(input: {user: "${TARGET}"}) { __typename }`;
const FRAGMENT = `fragment F on Mutation { ${terminate} }`;

describe('fields in a named fragment', () => {
  it('a syntax error: one refused event naming the field, the caller answered as before', async () => {
    const refused = await send(JSON.stringify({ query: `mutation Spread { ...F } ${FRAGMENT} {` }));
    expect(refused.status).toBe(400);
    expect(refused.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_PARSE_FAILED' });
    expect(refused.events).toEqual([
      expect.objectContaining({ operation: 'terminateSession', operationName: 'Spread', outcome: 'refused', reason: 'BAD_USER_INPUT', steps: [] }),
    ]);
    expect(refused.events[0]).not.toHaveProperty('targetUser');
  });

  it('the token limit: one refused event, OPERATION_TOO_COMPLEX, fields of nested fragments and inline fragments listed', async () => {
    const many = Array.from({ length: 30 }, (_, i) => `d${i}: disableAccount(input: {user: "user${i}@contoso.example"}) { __typename }`).join(' ');
    const document = `mutation { ...A } fragment A on Mutation { ... on Mutation { ...B } } fragment B on Mutation { ${many} ...A ...F } ${FRAGMENT}`;
    const refused = await send(JSON.stringify({ query: document }));
    expect(refused.status).toBe(400);
    expect(refused.errors[0].message).toMatch(/more tha[nt] 300 tokens/);
    expect(refused.events).toEqual([
      expect.objectContaining({
        operation: 'document',
        mutationFields: ['disableAccount', 'terminateSession'],
        outcome: 'refused',
        reason: 'OPERATION_TOO_COMPLEX',
      }),
    ]);
  });

  it('variables nested too deep (refused before Apollo): the fragment is followed too', async () => {
    const deep = (levels: number): unknown => (levels === 0 ? 'x' : { a: deep(levels - 1) });
    const refused = await send(JSON.stringify({ query: `fragment F on Mutation { ${terminate} } mutation { ...F }`, variables: { v: deep(40) } }));
    expect(refused.status).toBe(400);
    expect(refused.events).toEqual([expect.objectContaining({ operation: 'terminateSession', reasonDetail: 'VARIABLES_TOO_DEEP' })]);
  });

  it('ways to hide a field from the bounded reader leave an event: padding fragments, a harmless first mutation or fragment, a query of the same name', async () => {
    const padding = Array.from({ length: MAX_FRAGMENTS }, (_, i) => `fragment P${i} on Mutation { __typename }`).join(' ');
    // Each is a syntax error (the trailing `{`): refused before it runs; before, none left an event.
    const padded = await send(JSON.stringify({ query: `mutation Padded { ...Hidden } ${padding} fragment Hidden on Mutation { ${terminate} } {` }));
    expect(padded.status).toBe(400);
    expect(padded.events).toEqual([
      expect.objectContaining({ operation: 'document', operationName: 'Padded', mutationFields: [], mutationFieldsIncomplete: true, outcome: 'refused' }),
    ]);
    const second = await send(JSON.stringify({ query: `mutation A { __typename } mutation B { ${terminate} } {` }));
    // Both mutations are read (the worst case), so the event names neither of their two names.
    expect(second.events).toEqual([expect.objectContaining({ operation: 'terminateSession', operationName: null, outcome: 'refused' })]);
    const twice = await send(JSON.stringify({ query: `mutation { ...F } fragment F on Mutation { __typename } fragment F on Mutation { ${terminate} } {` }));
    expect(twice.events).toEqual([expect.objectContaining({ operation: 'terminateSession', outcome: 'refused' })]);
    const named = await send(JSON.stringify({ query: `query X { __typename } mutation X { ${terminate} } {`, operationName: 'X' }));
    expect(named.events).toEqual([expect.objectContaining({ operation: 'terminateSession', operationName: 'X', outcome: 'refused' })]);
    for (const refused of [second, twice, named]) expect(refused.events[0]).not.toHaveProperty('mutationFieldsIncomplete');
  });

  it('a fragment spread only inside a field, or by a query, is no mutation attempt', async () => {
    const query = await send(JSON.stringify({ query: `query { me { ...F } } ${FRAGMENT} {` }));
    expect(query.status).toBe(400);
    expect(query.events).toHaveLength(0);
  });
});

describe('adversarial documents of 4 MB, answered at once', () => {
  it('a cycle of spreads repeated 700 000 times: the field is found, one event', async () => {
    const document = `mutation { ${'...A '.repeat(700_000)} } fragment A on Mutation { ...B ...A } fragment B on Mutation { ...A ${terminate} }`;
    expect(document.length).toBeGreaterThan(3_500_000);
    const refused = await send(JSON.stringify({ query: document }));
    expect(refused.status).toBe(400);
    expect(refused.ms).toBeLessThan(5_000);
    expect(refused.events).toEqual([expect.objectContaining({ operation: 'terminateSession', reason: 'OPERATION_TOO_COMPLEX' })]);
  });

  it(`a chain of 100 000 fragments: followed as far as the first ${MAX_FRAGMENTS}, then audited as the worst case`, async () => {
    const chain = Array.from({ length: 100_000 }, (_, i) => `fragment F${i} on Mutation { ...F${i + 1} }`).join(' ');
    const document = `mutation { ...F0 } ${chain} fragment F100000 on Mutation { ${terminate} }`;
    expect(document.length).toBeGreaterThan(3_500_000);
    const refused = await send(JSON.stringify({ query: document }));
    expect(refused.status).toBe(400);
    expect(refused.ms).toBeLessThan(5_000);
    // Before: no event at all. The field past the bound is not named, but the event says one may be.
    expect(refused.events).toEqual([
      expect.objectContaining({
        operation: 'document',
        mutationFields: [],
        mutationFieldsIncomplete: true,
        outcome: 'refused',
        reason: 'OPERATION_TOO_COMPLEX',
      }),
    ]);
  });

  it('inline fragments nested 200 000 deep and 2 million unclosed braces in a fragment', async () => {
    const nested = await send(JSON.stringify({ query: `mutation { ${'... on Mutation { '.repeat(200_000)} ${terminate}` }));
    expect(nested.status).toBe(400);
    expect(nested.ms).toBeLessThan(5_000);
    expect(nested.events).toEqual([expect.objectContaining({ operation: 'terminateSession' })]);

    const braces = await send(JSON.stringify({ query: `mutation { ...F } fragment F on Mutation { ${'{ '.repeat(2_000_000)}` }));
    expect(braces.status).toBe(400);
    expect(braces.ms).toBeLessThan(5_000);
    expect(braces.events).toHaveLength(0);
  });
});
