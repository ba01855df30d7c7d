import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBudgetBytes, callerBodyShareBytes } from '../../src/http/request-body.js';
import { appCallerToken } from '../identity/support.js';
import { apiKeyCallers } from '../support/api-key-callers.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * Request bodies being read share one budget (src/http/request-body.ts), and a body is read only
 * after its caller authenticated. Before, one authenticated caller could hold all of it: ~33
 * connections that each sent 999 KB of a 1 MB body and stalled, re-opened whenever the request
 * timeout closed them, and every other caller's POST /graphql was answered 429
 * REQUEST_BODIES_IN_FLIGHT for as long as it liked. Any credential did: an API key holding only
 * Users.Read, or an Entra app-only token without any role of the API (which Entra issues to every
 * app of the tenant unless assignment is required), whose operations are all refused FORBIDDEN.
 * Now one caller's bodies hold at most its share of the budget (docs/security.md#request-bodies-per-caller);
 * past it that caller, and only it, gets 429 with `reason: CALLER_REQUEST_BODIES_IN_FLIGHT`.
 * Production configuration (NODE_ENV=production).
 */
const HOG = 'hog-key-0123456789abcdef';
const VICTIM = 'victim-key-0123456789abcdef';
const BODY = 1_000_000;
const STALLED = 40;
const QUERY = '{ users(first: 1) { nodes { id } } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** `gateway_memory_budget_refusals_total{budget, bound}` in a /metrics text (0 when the series has not been counted). */
const refusalsIn = (metrics: string, budget: string, bound: string): number =>
  Number(new RegExp(`^gateway_memory_budget_refusals_total\\{budget="${budget}",bound="${bound}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);

describe('one caller cannot hold the request-body budget of all callers', () => {
  let emulator: TestEmulator;
  let keyed: TestGateway;
  let entra: TestGateway;
  let loopback: TestGateway;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 5 });
    [keyed, entra, loopback] = await Promise.all([
      startTestGateway({
        emulator,
        env: {
          NODE_ENV: 'production',
          ...apiKeyCallers({ hog: { key: HOG, permissions: ['Users.Read'] }, victim: { key: VICTIM, permissions: ['Users.Read'] } }),
        },
      }),
      startTestGateway({
        emulator,
        env: { NODE_ENV: 'production', DEPLOYMENT_MODE: 'self-deployed', CALLER_AUTH: 'entra', API_AUDIENCE: 'api://msgraph-user-gateway' },
      }),
      startTestGateway({ emulator, env: { NODE_ENV: 'production', SANDBOX: 'true', CALLER_AUTH: 'none' } }),
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all([keyed?.close(), entra?.close(), loopback?.close()]);
    await emulator?.close();
  });

  /**
   * What a caller that means to shut the others out does: connections that each declare a 1 MB body,
   * send part of it and stall, first 999 KB each, then halving sizes down to one byte, each sent once
   * the previous one was held or refused (a refused body releases what it held), so the bytes held
   * end within a byte of whatever bound stops them. What each connection was answered so far.
   */
  const stallBodies = async (url: string, credential: string): Promise<string[]> => {
    const port = Number(new URL(url).port);
    const sizes = [...Array<number>(STALLED).fill(BODY - 1_000), ...Array.from({ length: 20 }, (_, i) => 2 ** (19 - i))];
    const answers: string[] = [];
    for (const [i, size] of sizes.entries()) {
      const socket = connect(port, '127.0.0.1');
      answers.push('');
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => (answers[i] += chunk.toString('latin1')));
      socket.write(`POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${BODY}\r\n${credential}\r\n\r\n`);
      socket.write(Buffer.alloc(size, 0x20));
      sockets.push(socket);
      await sleep(i < STALLED ? 20 : 60);
    }
    await sleep(1_000);
    return answers;
  };

  it('holds the API key that stalls its bodies to its share; another key is served', async () => {
    expect(STALLED * (BODY - 1_000)).toBeGreaterThan(bodyBudgetBytes(BODY));
    const answers = await stallBodies(keyed.url, `x-api-key: ${HOG}`);
    // Its bodies past its share are refused, with the reason naming its own share; the rest are held.
    const refused = answers.filter((a) => /^HTTP\/1\.1 429 /.test(a));
    expect(answers.length - refused.length).toBeLessThanOrEqual(Math.ceil(callerBodyShareBytes(BODY) / (BODY - 1_000)) + 20);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) expect(answer).toContain('"reason":"CALLER_REQUEST_BODIES_IN_FLIGHT"');
    expect(refused[0]).toMatch(/retry-after: 1/i);

    // Another caller's body is read and its operation runs (before: 429 REQUEST_BODIES_IN_FLIGHT).
    const other = await keyed.graphql(QUERY, undefined, { 'x-api-key': VICTIM });
    expect(other.errors).toBeUndefined();
    expect(other.status).toBe(200);
    expect(other.data?.users.nodes).toHaveLength(1);
    // The stalled caller itself is still at its share.
    const same = await keyed.graphql(QUERY, undefined, { 'x-api-key': HOG });
    expect(same.status).toBe(429);
    expect(same.errors?.[0]?.extensions).toMatchObject({ code: 'THROTTLED', reason: 'CALLER_REQUEST_BODIES_IN_FLIGHT', retryAfterSeconds: 1 });
    expect(keyed.logLines.join('\n')).not.toContain('unhandled error in an HTTP route');
    // Counted, by the bound that refused: the caller's share, never the budget of all (docs/operations.md#metrics).
    const metrics = await (await fetch(`${keyed.url}/metrics`)).text();
    expect(refusalsIn(metrics, 'request_bodies', 'caller_share')).toBeGreaterThanOrEqual(refused.length + 1);
    expect(refusalsIn(metrics, 'request_bodies', 'all_callers')).toBe(0);

    for (const socket of sockets.splice(0)) socket.destroy();
    await sleep(300);
    // Its share is given back when its bodies go.
    expect((await keyed.graphql(QUERY, undefined, { 'x-api-key': HOG })).status).toBe(200);
  }, 30_000);

  it('holds an Entra app without any role of the API (a token every app of the tenant can get) to its share', async () => {
    const known = emulator.tenant.wellKnown;
    // The read-only app holds no role of the gateway's API: every field is refused to it, yet its
    // token authenticates, and that is enough to have bodies read.
    const roleless = await appCallerToken(emulator, known.readOnlyAppId, known.readOnlyAppSecret);
    const answers = await stallBodies(entra.url, `authorization: Bearer ${roleless}`);
    expect(answers.filter((a) => a.includes('"reason":"CALLER_REQUEST_BODIES_IN_FLIGHT"')).length).toBeGreaterThan(0);
    const reader = await appCallerToken(emulator, known.readerCallerAppId, known.readerCallerAppSecret);
    const other = await entra.graphql(QUERY, undefined, { authorization: `Bearer ${reader}` });
    expect(other.errors).toBeUndefined();
    expect(other.status).toBe(200);
    expect(other.data?.users.nodes).toHaveLength(1);
    for (const socket of sockets.splice(0)) socket.destroy();
  }, 30_000);

  it('keeps no share for the loopback user of CALLER_AUTH=none, who is every caller: the budget alone bounds its bodies', async () => {
    // No credential: the loopback user of CALLER_AUTH=none (a header that says nothing in its place).
    const answers = await stallBodies(loopback.url, 'x-pad: 1');
    const held = answers.filter((a) => a === '').length;
    // More than one caller's share is held; what is refused is refused by the budget of all callers.
    expect(held * (BODY - 1_000)).toBeGreaterThan(callerBodyShareBytes(BODY));
    for (const answer of answers.filter((a) => a !== '')) expect(answer).toContain('"reason":"REQUEST_BODIES_IN_FLIGHT"');
    const metrics = await (await fetch(`${loopback.url}/metrics`)).text();
    expect(refusalsIn(metrics, 'request_bodies', 'all_callers')).toBeGreaterThanOrEqual(Math.max(1, answers.filter((a) => a !== '').length));
    expect(refusalsIn(metrics, 'request_bodies', 'caller_share')).toBe(0);
    for (const socket of sockets.splice(0)) socket.destroy();
  }, 30_000);
});
