import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProductionGateway, type GatewayProcess } from '../support/gateway-process.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * The answers of operations executing at once share one budget of estimated field values
 * (docs/security.md#answers-in-flight, src/graphql/budget/answers-in-flight.ts). The production
 * build runs with the image's heap cap (`--max-old-space-size=128`, docker/Dockerfile), the default
 * 1000-user sandbox tenant and keys holding only `Users.Read`.
 *
 * Before: MAX_RESULT_VALUES bounded one answer only. `_entities` operations of 1000 references to
 * one user with 96 fields and its manager's 16 (~113,000 values by the estimate, under the 250,000
 * per operation; a 2.5 MB answer; a Graph request or two each) add up: one key sending 1, 2, 4, 6,
 * then 8 at once aborted the process at the 8 ("Reached heap limit Allocation failed - JavaScript
 * heap out of memory"; 6 at once peaked at ~107 MB of heap), and so did the first test below. Now what executing operations hold together is
 * bounded, with a share per caller, and refused past it with 429 and `Retry-After: 1`.
 */
const READER = 'reader-key-0123456789abcdef';
const OTHERS = Array.from({ length: 12 }, (_, i) => ({ name: `other${i}`, key: `other-${i}-key-0123456789abcdef` }));
const FIELDS =
  'id displayName givenName surname userPrincipalName mail jobTitle department officeLocation mobilePhone businessPhones accountEnabled userType createdDateTime employeeId companyName';
const QUERY = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { ${FIELDS} ${Array.from({ length: 80 }, (_, i) => `a${i}: displayName`).join(' ')} manager { ${FIELDS} } } } }`;

describe('answers in flight (production build, 128 MB heap)', () => {
  let gw: GatewayProcess;
  let dispatcher: Agent;
  let body: string;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-answers-'));

  beforeAll(async () => {
    gw = await startProductionGateway({
      dataDir,
      nodeArgs: ['--max-old-space-size=128'],
      env: {
        ...apiKeyCallers({
          reader: { key: READER, permissions: ['Users.Read'] },
          ...Object.fromEntries(OTHERS.map(({ name, key }) => [name, { key, permissions: ['Users.Read' as const] }])),
        }),
        LOG_LEVEL: 'warn',
        FEDERATION: 'true',
      },
    });
    dispatcher = new Agent({ connect: { ca: readFileSync(path.join(dataDir, 'emulator', 'emulator-ca.pem'), 'utf8') } });
    const list = (await (await post(READER, { query: '{ users(first: 50) { nodes { id manager { id } } } }' })).json()) as {
      data: { users: { nodes: Array<{ id: string; manager: { id: string } | null }> } };
    };
    const id = list.data.users.nodes.find((n) => n.manager)!.id;
    body = JSON.stringify({ query: QUERY, variables: { r: new Array(1000).fill({ __typename: 'User', id }) } });
  }, 120_000);

  afterAll(async () => {
    gw?.kill();
    await dispatcher?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (key: string, payload: unknown) =>
    fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify(payload) });
  const large = async (key: string) => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body });
    const text = await res.text();
    const errors = res.status === 200 ? undefined : (JSON.parse(text) as { errors: Array<{ extensions: Record<string, unknown> }> }).errors;
    return { status: res.status, retryAfter: res.headers.get('retry-after'), bytes: text.length, extensions: errors?.[0]?.extensions };
  };
  const graphRequests = async () => {
    const res = await undiciFetch(`${gw.emulatorOrigin}/_emulator/stats`, { dispatcher });
    return ((await res.json()) as { graphRequests: number }).graphRequests;
  };
  const alive = async () => {
    expect(gw.child.exitCode).toBeNull();
    expect(gw.child.signalCode).toBeNull();
    const res = await post(OTHERS[0]!.key, { query: '{ users(first: 1) { nodes { id } } }' });
    expect(res.status).toBe(200);
  };

  it('the attack that aborted it: twelve keys, two operations each at once, three times: refused past 500,000 values (429 ANSWERS_IN_FLIGHT), and the process lives', async () => {
    // Two such operations fit one caller's share: what is refused here is refused by the budget of all.
    let refusedInAll = 0;
    for (let round = 0; round < 3; round++) {
      // Small operations of another caller meanwhile: counted, never refused (a hundredth of the budget or less).
      const small = Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          await new Promise((r) => setTimeout(r, 100 * i));
          return (await post(READER, { query: '{ users(first: 20) { nodes { id displayName mail } } }' })).status;
        }),
      );
      const results = await Promise.all(OTHERS.flatMap(({ key }) => [large(key), large(key)]));
      expect(await small).toEqual(new Array(10).fill(200));
      const served = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status === 429);
      expect(served.length + refused.length).toBe(24);
      expect(served.length).toBeGreaterThanOrEqual(2);
      for (const r of served) expect(r.bytes).toBeGreaterThan(2_000_000);
      for (const r of refused) {
        expect(r.retryAfter).toBe('1');
        expect(r.extensions).toMatchObject({ code: 'THROTTLED', reason: 'ANSWERS_IN_FLIGHT', retryAfterSeconds: 1 });
      }
      refusedInAll += refused.length;
    }
    expect(refusedInAll).toBeGreaterThan(0);
    await alive();
  }, 60_000);

  it('one caller holds at most its share (250,000 values: two such operations); the rest is refused before Graph sees it', async () => {
    // What one such operation costs Graph, alone.
    const before = await graphRequests();
    expect((await large(READER)).status).toBe(200);
    const perOperation = (await graphRequests()) - before;

    const start = await graphRequests();
    const results = await Promise.all(Array.from({ length: 8 }, () => large(READER)));
    const served = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(served.length + refused.length).toBe(8);
    expect(served.length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(refused[0]!.retryAfter).toBe('1');
    expect(refused[0]!.extensions).toMatchObject({ code: 'THROTTLED', reason: 'CALLER_ANSWERS_IN_FLIGHT', retryAfterSeconds: 1 });
    expect(refused[0]!.extensions!.estimatedValues).toBeGreaterThan(100_000);
    // Only the served ones reached Graph.
    expect((await graphRequests()) - start).toBeLessThanOrEqual(served.length * perOperation);
    // Another caller is served meanwhile: the share left room for it.
    await alive();
  }, 60_000);

  it('callers that disconnect while their answer is built or written give their values back', async () => {
    const port = Number(new URL(gw.url).port);
    const head = `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\nx-api-key: ${READER}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`;
    // Each reserves ~113,000 values; eight would hold 900,000 if they leaked, four times the share.
    for (let i = 0; i < 8; i++) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
        socket.write(head + body);
        if (i % 2 === 0) {
          // Gone while the operation executes.
          setTimeout(() => socket.destroy(), 300);
        } else {
          // Gone after the first bytes of the answer.
          socket.once('data', () => socket.destroy());
        }
      });
    }
    // Let the gateway see the last close.
    await new Promise((r) => setTimeout(r, 2_000));
    const results = await Promise.all([large(READER), large(READER)]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    await alive();
  }, 60_000);
});
