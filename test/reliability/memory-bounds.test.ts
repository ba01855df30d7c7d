import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProductionGateway, type GatewayProcess } from '../support/gateway-process.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * What one caller can make the gateway keep in memory. The production build runs with the image's
 * heap cap (`--max-old-space-size=128`, docker/Dockerfile) and a key holding only `Users.Read`.
 *
 * Before: Apollo's cache of parsed documents was bounded by the documents' JSON size, which leaves
 * out the source text a parsed document keeps (comments included; they are not tokens, so
 * MAX_TOKENS does not stop them). ~110 requests of `{ __typename } # <900 KB of comment>`, each
 * different, exhausted the heap and the process aborted. Automatic persisted queries kept every
 * registered query text in a second such cache. Now the store counts what a document holds
 * (src/graphql/document-store.ts) and persisted queries are off.
 *
 * Request bodies: the gateway read a body before authenticating its sender, so anyone could open
 * hundreds of connections, send nearly 1 MB on each and stall: 600 of them held ~575 MB outside
 * the heap (past the Deployment's 384 Mi limit), and each disconnect logged an `error` line. Now the
 * caller is authenticated from its headers first, the bodies buffered at once share one budget
 * (src/http/request-body.ts), and a caller that goes away mid-body is a `debug` line.
 *
 * Connections: one that trickles its headers holds ~10 KB for as long as Node waits for them (60 s
 * by default); 8,000 held ~80 MB, and nothing bounded their number. Now headers must arrive within
 * 10 s and MAX_CONNECTIONS caps the connections open at once.
 */
const KEY = 'reader-key-0123456789abcdef';
/** Callers that fill the body budget together: one caller holds at most an eighth of it (docs/security.md#request-bodies-per-caller). */
const FILLERS = Array.from({ length: 10 }, (_, i) => ({ name: `filler${i}`, key: `filler-${i}-key-0123456789abcdef` }));
const COMMENT = 'x'.repeat(900_000);

describe('memory one caller can pin (production build, 128 MB heap)', () => {
  let gw: GatewayProcess;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-memory-'));

  beforeAll(async () => {
    gw = await startProductionGateway({
      dataDir,
      nodeArgs: ['--max-old-space-size=128'],
      env: {
        SANDBOX_USERS: '20',
        ...apiKeyCallers({
          reader: { key: KEY, permissions: ['Users.Read'] },
          ...Object.fromEntries(FILLERS.map(({ name, key }) => [name, { key, permissions: ['Users.Read' as const] }])),
        }),
        LOG_LEVEL: 'warn',
        // The stranger below fails 300 times from one address: each must meet the authentication
        // itself, not the failure budget (which would also refuse them unread, with 429).
        AUTH_FAILURE_LIMIT: '100000',
        // Small, so that the slow-header test below can reach it cheaply (default 10,000).
        MAX_CONNECTIONS: '400',
        // Above it, so that the slow-header test meets MAX_CONNECTIONS, not the per-address cap
        // (every connection here comes from 127.0.0.1; that cap has test/e2e/connections-per-address.test.ts).
        MAX_CONNECTIONS_PER_ADDRESS: '1000',
        // `_entities`, for the representations test below.
        FEDERATION: 'true',
      },
    });
  }, 240_000);

  afterAll(() => {
    gw?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * Opens `count` connections, each declaring a 1 MB body and sending all but the last KB of it,
   * then stalling; collects what the gateway answered on each until `answered` of them were
   * answered (the budget refuses a body as its bytes arrive, which a machine busy with other test
   * files delays), or `waitMs` passed.
   */
  const stalledBodies = async (count: number, headersOf: (i: number) => Record<string, string>, waitMs: number, answered = count) => {
    const port = new URL(gw.url).port;
    const sockets: net.Socket[] = [];
    const answers: string[] = [];
    const headOf = (i: number) =>
      Object.entries({ 'content-type': 'application/json', 'content-length': '1000000', ...headersOf(i) })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
    const almostAll = Buffer.alloc(999_000, 'a');
    for (let i = 0; i < count; i++) {
      const head = headOf(i);
      const socket = net.connect(Number(port), '127.0.0.1');
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
      socket.on('close', () => answers.push(answer));
      socket.on('error', () => undefined);
      socket.write(`POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${head}\r\n`);
      socket.write(almostAll);
      sockets.push(socket);
    }
    const deadline = Date.now() + waitMs;
    while (answers.length < answered && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // A moment more, for anything still on its way (the counts below are checked, not only awaited).
    await new Promise((r) => setTimeout(r, 300));
    const memory = await memoryMb();
    const stillOpen = sockets.filter((s) => !s.destroyed).length;
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    return { answers, stillOpen, memory };
  };
  const memoryMb = async () => {
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1]) / 2 ** 20;
    return { rss: metric('process_resident_memory_bytes'), external: metric('nodejs_external_memory_bytes') };
  };

  const post = (body: unknown) =>
    fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify(body) });
  const heapUsedMb = async () => {
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    return Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(metrics)?.[1]) / 2 ** 20;
  };

  it('serves 250 different documents of 900 KB each (a comment) without growing: the document cache counts what they hold', async () => {
    for (let i = 0; i < 250; i++) {
      const res = await post({ query: `{ __typename } # ${i} ${COMMENT}` });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
    }
    expect(gw.child.exitCode).toBeNull();
    // ~40–55 MB in use at rest; the document cache adds at most 16 MB of estimated size.
    expect(await heapUsedMb()).toBeLessThan(100);
    // And the cache still serves: a document seen before is answered as before.
    expect((await post({ query: '{ __typename }' })).status).toBe(200);
  }, 240_000);

  it('budget estimates of many documents and variable shapes stay bounded: 8 documents named with 100,000 characters, 256 shapes each', async () => {
    // Before: the estimates were cached per document (at most 256 each, keyed by the operation's
    // name and the variables' shape) for as long as Apollo's store kept the document, and nothing
    // bounded them all together: each key held its own copy of the name, so ~800 such requests
    // (about 3 documents) exhausted the heap and the process aborted. `{ __typename }` needs no
    // permission, so any credential could. Now one cache bounded by what it holds serves every
    // document, and the operation is keyed by its position, not its name
    // (docs/security.md#the-upstream-budget-and-its-cache).
    const name = 'N'.repeat(100_000);
    for (let d = 0; d < 8; d++) {
      const query = `query Q${d}${name} { __typename }`;
      let next = 0;
      const statuses: number[] = [];
      const worker = async () => {
        while (next < 256) {
          const shape = next++;
          const res = await post({ query, variables: { [`v${shape}`]: shape } });
          statuses.push(res.status);
          await res.text();
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(gw.child.exitCode).toBeNull();
    }
    expect(await heapUsedMb()).toBeLessThan(100);
    expect((await post({ query: '{ __typename }' })).status).toBe(200);
  }, 240_000);

  it('plans that use variables keep nothing of them past their request: 250 documents, each given a 900 KB variable', async () => {
    // Before: the selection plan of `manager @include(if: $m)` was kept on the document's field
    // node with the variables it was planned for, for as long as Apollo's store kept the document
    // (which counts the document, not those variables): every different document kept its 900 KB
    // and ~105 such requests aborted the process. Now such plans are kept per request
    // (src/graphql/resolvers/plan-memo.ts).
    const pad = 'p'.repeat(900_000);
    for (let i = 0; i < 250; i++) {
      const query = `query($m: Boolean!, $pad: ID!) { users(first: 1) { nodes { id manager @include(if: $m) { id } } } user(id: $pad) @skip(if: true) { id } } # ${i}`;
      const res = await post({ query, variables: { m: true, pad } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { users: { nodes: Array<{ id: string }> } }; errors?: unknown };
      expect(body.errors).toBeUndefined();
      expect(body.data.users.nodes).toHaveLength(1);
    }
    expect(gw.child.exitCode).toBeNull();
    expect(await heapUsedMb()).toBeLessThan(100);
  }, 240_000);

  it('a 250,000-item list variable that does not coerce: one refusal, not 250,000 errors built in each planning hook', async () => {
    // Before: the upstream budget and the users input check coerced the variables without graphql-js's
    // error limit, one GraphQLError (with its stack) per item: the heap ran out and the process died,
    // for any caller (their hooks run beside the permission check).
    const zeros = new Array(250_000).fill(0);
    const res = await post({ query: 'query($f: UserFilter) { users(first: 1, filter: $f) { nodes { id } } }', variables: { f: { departmentIn: zeros } } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors.length).toBeLessThanOrEqual(51);
    expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect(gw.child.exitCode).toBeNull();
    expect((await post({ query: '{ __typename }' })).status).toBe(200);
  }, 60_000);

  it('_entities with 40,000 representations that are not references: one error, not one each', async () => {
    // Before: one BAD_USER_INPUT per representation; 30,000 made a 9 MB answer, 40,000 exhausted the heap.
    // Now 40,000 are past MAX_ENTITY_REPRESENTATIONS (1000) and refused before execution; below it,
    // more than 20 bad ones still fail the field with one error.
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }';
    const res = await post({ query, variables: { r: new Array(40_000).fill({ __typename: 'Q' }) } });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text.length).toBeLessThan(10_000);
    const refused = JSON.parse(text) as { errors: Array<{ extensions: Record<string, unknown> }> };
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', limit: 'maxEntityRepresentations', found: 40_000 });
    const under = await post({ query, variables: { r: new Array(1000).fill({ __typename: 'Q' }) } });
    const body = (await under.json()) as { data: unknown; errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(body.data).toBeNull(); // `_entities` is non-null: the field's error nulls the data
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'representations' });
    expect(body.errors[0]!.message).toMatch(/^1000 of the 1000 representations/);
    expect(gw.child.exitCode).toBeNull();
  }, 60_000);

  it('_entities with 14,500 references to one user and 100 fields each: refused before execution, not a 33 MB answer', async () => {
    // Before: one Graph request (the same user each time) and an answer repeating the selection
    // for every reference; the first such request, 1 MB, aborted the process (out of heap).
    const list = (await (await post({ query: '{ users(first: 1) { nodes { id } } }' })).json()) as { data: { users: { nodes: Array<{ id: string }> } } };
    const id = list.data.users.nodes[0]!.id;
    const fields = `id displayName givenName surname userPrincipalName mail jobTitle department officeLocation mobilePhone businessPhones accountEnabled userType createdDateTime employeeId companyName ${Array.from({ length: 84 }, (_, i) => `f${i}: displayName`).join(' ')}`;
    const representations = new Array(14_500).fill({ __typename: 'User', id });
    const res = await post({
      query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { ${fields} } } }`,
      variables: { r: representations },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Array<{ extensions: Record<string, unknown> }> };
    expect(body.errors[0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', limit: 'maxEntityRepresentations', found: 14_500 });
    expect(gw.child.exitCode).toBeNull();
    expect((await post({ query: '{ __typename }' })).status).toBe(200);
  }, 60_000);

  it('answers that repeat what Graph read (aliases, references, nested pages): refused before execution past MAX_RESULT_VALUES', async () => {
    // Before: 980 references to a manager with 17 reports, each selecting `directReports(first:
    // 999)` with 99 fields, aborted this build (out of heap) while Graph was asked a handful of
    // requests; 50 aliases of a 999-user page with 16 fields made a 24 MB answer.
    const list = (await (await post({ query: '{ users(first: 1) { nodes { id } } }' })).json()) as { data: { users: { nodes: Array<{ id: string }> } } };
    const id = list.data.users.nodes[0]!.id;
    const reports = `directReports(first: 999) { nodes { id displayName ${Array.from({ length: 40 }, (_, i) => `f${i}: displayName`).join(' ')} } }`;
    const entities = await post({
      query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id ${reports} } } }`,
      variables: { r: new Array(900).fill({ __typename: 'User', id }) },
    });
    const fields =
      'id displayName givenName surname userPrincipalName mail jobTitle department officeLocation mobilePhone businessPhones accountEnabled userType createdDateTime employeeId companyName';
    const pages = await post({ query: `{ ${Array.from({ length: 50 }, (_, i) => `p${i}: users(first: 999) { nodes { ${fields} } }`).join(' ')} }` });
    for (const res of [entities, pages]) {
      expect(res.status).toBe(400);
      const body = (await res.json()) as { errors: Array<{ extensions: Record<string, unknown> }> };
      expect(body.errors[0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', limit: 'maxResultValues', max: 250_000 });
    }
    expect(gw.child.exitCode).toBeNull();
    expect((await post({ query: '{ __typename }' })).status).toBe(200);
  }, 60_000);

  it('refuses automatic persisted queries with the protocol’s PERSISTED_QUERY_NOT_SUPPORTED (clients then send the text)', async () => {
    const hash = 'ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38'; // sha256 of '{ __typename }'
    const res = await post({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    const body = (await res.json()) as { errors?: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(body.errors?.[0]?.message).toBe('PersistedQueryNotSupported');
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PERSISTED_QUERY_NOT_SUPPORTED' });
  });

  it('a stranger cannot make it buffer request bodies: 300 stalled 1 MB bodies without a credential are refused from their headers', async () => {
    const { answers, stillOpen, memory } = await stalledBodies(300, () => ({}), 15_000);
    // Answered 401 at once and the connection closed, with the body unread.
    expect(stillOpen).toBe(0);
    expect(answers).toHaveLength(300);
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(memory.external).toBeLessThan(64);
    expect(gw.child.exitCode).toBeNull();
  }, 60_000);

  it('bodies of authenticated callers share one budget: a body whose bytes go past it is refused (429) and not read further', async () => {
    // 32 MiB: about 33 bodies are being read (and wait for their last KB); the others are refused.
    // Ten callers, eight connections each: one caller alone holds only its share (4 MiB, ~4 bodies).
    const { answers, stillOpen, memory } = await stalledBodies(80, (i) => ({ 'x-api-key': FILLERS[i % FILLERS.length]!.key }), 15_000, 80 - 34);
    expect(stillOpen).toBeGreaterThanOrEqual(30);
    const refused = answers.filter((a) => /^HTTP\/1\.1 429 /.test(a));
    expect(refused.length).toBeGreaterThanOrEqual(80 - stillOpen - 2);
    expect(refused[0]).toMatch(/retry-after: 1/i);
    expect(refused[0]).toContain('REQUEST_BODIES_IN_FLIGHT');
    expect(memory.external).toBeLessThan(96);
    // The budget is given back when the stalled callers go: the next body is read and answered.
    expect((await post({ query: '{ __typename }' })).status).toBe(200);
    // A caller going away mid-body is not an error of the gateway's.
    expect(gw.output()).not.toMatch(/unhandled error in an HTTP route/);
    expect(gw.child.exitCode).toBeNull();
  }, 60_000);

  it('a declared Content-Length reserves nothing: callers that declare the whole budget, send one byte and stall do not shut out the others', async () => {
    // Before: the declared length was reserved before the first byte; 34 such connections (7 KB of
    // traffic) held the whole 32 MiB budget and every other POST got 429 until the request timeout.
    const port = Number(new URL(gw.url).port);
    const sockets: net.Socket[] = [];
    // 33 × 1,000,000 + 554,432 = 32 MiB, the budget (MAX_BODY_BYTES is 1,000,000).
    const declared = [...new Array(33).fill(1_000_000), 32 * 2 ** 20 - 33 * 1_000_000];
    for (const length of declared) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.resume();
      socket.write(
        `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\nx-api-key: ${KEY}\r\n\r\n{`,
      );
      sockets.push(socket);
    }
    await new Promise((r) => setTimeout(r, 1_000));
    try {
      const res = await post({ query: '{ __typename }' });
      expect(res.status).toBe(200);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    expect(gw.child.exitCode).toBeNull();
  }, 60_000);

  it('slow headers: connections past MAX_CONNECTIONS are closed at once, the rest after the 10 s headers timeout', async () => {
    const port = Number(new URL(gw.url).port);
    const sockets: Array<{ socket: net.Socket; closedAfterMs?: number }> = [];
    const opened = Date.now();
    for (let i = 0; i < 600; i++) {
      const entry: { socket: net.Socket; closedAfterMs?: number } = { socket: net.connect(port, '127.0.0.1') };
      entry.socket.on('error', () => undefined);
      // Read what the server sends (its 408), or the socket never sees the end of the connection.
      entry.socket.resume();
      entry.socket.on('close', () => (entry.closedAfterMs = Date.now() - opened));
      entry.socket.write(`POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-pad: ${'a'.repeat(4_000)}`);
      sockets.push(entry);
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const closedEarly = sockets.filter((s) => s.closedAfterMs !== undefined).length;
    // 400 may stay open (the cap); the others were refused on arrival.
    expect(closedEarly).toBeGreaterThanOrEqual(200);
    expect(closedEarly).toBeLessThan(600);
    // The headers timeout (10 s, checked every second) closes the rest; then the port serves again.
    await new Promise((r) => setTimeout(r, 10_500));
    expect(sockets.filter((s) => s.closedAfterMs === undefined)).toHaveLength(0);
    expect(Math.max(...sockets.map((s) => s.closedAfterMs!))).toBeLessThan(12_500);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect(gw.child.exitCode).toBeNull();
  }, 60_000);
});
