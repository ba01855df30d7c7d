import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { rawExchange } from '../support/raw-http.js';
import { clearAnswerProblems, post, startRecordingGateway, type HttpAnswer, type RecordedCall, type RecordingGateway } from './recording-gateway.js';

/**
 * A corpus of hostile and malformed requests over real HTTP: each gets a clear 4xx or a GraphQL
 * error with a public code, never a 500 or a crash, and never an upstream call carrying the raw
 * input (checked on every request the gateway's HTTP layer sent to the emulator).
 */
let emulator: TestEmulator;
let gw: RecordingGateway;
const MAX_BODY = 200_000;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 200 });
  gw = await startRecordingGateway(emulator, { MAX_BODY_BYTES: String(MAX_BODY), MAX_ALIASES: '50', MAX_QUERY_DEPTH: '10' });
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

/** Sends, then returns the answer and the upstream calls it caused. */
async function send(body: string | Buffer, headers?: Record<string, string>): Promise<{ answer: HttpAnswer; calls: RecordedCall[] }> {
  const before = gw.calls.length;
  const answer = await post(gw.url, body, headers);
  return { answer, calls: gw.calls.slice(before) };
}
const gql = (query: string, variables?: Record<string, unknown>) => send(JSON.stringify({ query, ...(variables ? { variables } : {}) }));

function expectClear(answer: HttpAnswer) {
  expect(clearAnswerProblems(answer), answer.text.slice(0, 300)).toEqual([]);
}
function firstCode(answer: HttpAnswer) {
  return answer.json?.errors?.[0]?.extensions?.code;
}
/** Every call went to the emulator and none carries `raw` in its URL or a `..` path segment. */
function expectNoRawUpstream(calls: RecordedCall[], raw: string) {
  for (const call of calls) {
    const url = new URL(call.url);
    expect(url.origin).toBe(emulator.origin);
    expect(call.url.includes(raw), `raw input reached Graph: ${call.url}`).toBe(false);
    expect(url.pathname.split('/').some((s) => s === '..' || decodeURIComponent(s) === '..')).toBe(false);
    if (call.body) {
      for (const item of (JSON.parse(call.body) as { requests?: Array<{ url: string }> }).requests ?? []) {
        expect(item.url.includes(raw), `raw input reached Graph in $batch: ${item.url}`).toBe(false);
      }
    }
  }
}

/** A POST of `body` framed by Content-Length, as raw bytes. */
function lengthPost(extraHeaders: string, body: string, type = 'application/json'): Buffer {
  const head = `POST /graphql HTTP/1.1\r\nHost: ${new URL(gw.url).host}\r\ncontent-type: ${type}\r\n${extraHeaders}content-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return Buffer.from(head + body, 'latin1');
}
/** A POST of `body` in one chunk, with `Transfer-Encoding: <coding>` (which fetch cannot send). */
function chunkedPost(coding: string, body: Buffer, extraHeaders = ''): Buffer {
  const head = `POST /graphql HTTP/1.1\r\nHost: ${new URL(gw.url).host}\r\ncontent-type: application/json\r\n${extraHeaders}transfer-encoding: ${coding}\r\n\r\n`;
  return Buffer.concat([Buffer.from(`${head}${body.length.toString(16)}\r\n`, 'latin1'), body, Buffer.from('\r\n0\r\n\r\n')]);
}
/** Writes `bytes` on a new connection; everything the gateway sent until it closed or went quiet for 1.5 s. */
const rawGatewayExchange = (bytes: Buffer) => rawExchange(Number(new URL(gw.url).port), bytes, { quietMs: 1_500, encoding: 'utf8' });
/** The HTTP answers in `raw`, in order, each framed by its Content-Length. */
function answersOf(raw: string): Array<{ status: number; json: HttpAnswer['json'] }> {
  const answers: Array<{ status: number; json: HttpAnswer['json'] }> = [];
  let rest = Buffer.from(raw, 'utf8');
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    const body = rest.subarray(end + 4, end + 4 + length).toString('utf8');
    answers.push({ status: Number(head.split(' ')[1]), json: body ? (JSON.parse(body) as HttpAnswer['json']) : undefined });
    rest = rest.subarray(end + 4 + length);
  }
  return answers;
}

describe('broken requests at the HTTP level', () => {
  const cases: Array<[string, string | Buffer, Record<string, string> | undefined, number]> = [
    ['broken JSON', '{"query": "{ users { nodes { id } } }"', undefined, 400],
    ['empty JSON body', '', undefined, 400],
    ['JSON null', 'null', undefined, 400],
    ['a JSON number', '42', undefined, 400],
    ['a query that is not a string', JSON.stringify({ query: { users: 1 } }), undefined, 400],
    ['variables as a JSON string', JSON.stringify({ query: '{ __typename }', variables: '{"a":1}' }), undefined, 400],
    ['batched operations (a JSON array)', JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]), undefined, 400],
    ['text/plain (CSRF-able)', JSON.stringify({ query: '{ users { nodes { id } } }' }), { 'content-type': 'text/plain' }, 400],
    ['a form post', 'query=%7Busers%7Bnodes%7Bid%7D%7D%7D', { 'content-type': 'application/x-www-form-urlencoded' }, 400],
    ['no content type', JSON.stringify({ query: '{ users { nodes { id } } }' }), {}, 400],
    ['XML', '<query>users</query>', { 'content-type': 'application/xml' }, 400],
    ['a body over the limit', JSON.stringify({ query: `{ user(id: "${'a'.repeat(MAX_BODY)}") { id } }` }), undefined, 413],
  ];
  for (const [name, body, headers, status] of cases) {
    it(`${name} → ${status} with a code, nothing upstream`, async () => {
      const { answer, calls } = await send(body, headers);
      expect(answer.status).toBe(status);
      expectClear(answer);
      expect(calls).toEqual([]);
    });
  }

  it('a compressed body → 415 UNSUPPORTED_CONTENT_ENCODING naming what to send, unread, nothing upstream', async () => {
    const json = JSON.stringify({ query: '{ __typename }' });
    const { answer, calls } = await send(gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(answer.status).toBe(415);
    expectClear(answer);
    expect(answer.json?.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNSUPPORTED_CONTENT_ENCODING' });
    expect(answer.headers?.get('accept-encoding')).toBe('identity');
    expect(calls).toEqual([]);
    // `identity` is no coding at all (RFC 9110 §8.4.1): read as before.
    const identity = await send(json, { 'content-type': 'application/json', 'content-encoding': 'identity' });
    expect(identity.answer.json).toEqual({ data: { __typename: 'Query' } });
  });

  it('a body declared in another charset than UTF-8 → 415 UNSUPPORTED_CHARSET; utf-8 in any spelling is read', async () => {
    const json = JSON.stringify({ query: '{ __typename }' });
    const latin1 = await send(Buffer.from(json, 'latin1'), { 'content-type': 'application/json; charset=ISO-8859-1' });
    expect(latin1.answer.status).toBe(415);
    expectClear(latin1.answer);
    expect(latin1.answer.json?.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNSUPPORTED_CHARSET' });
    expect(latin1.calls).toEqual([]);
    for (const type of ['application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'application/json; charset=utf8']) {
      const { answer } = await send(json, { 'content-type': type });
      expect(answer.json, type).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('a body with a transfer coding other than chunked → 415 UNSUPPORTED_TRANSFER_CODING, unread, nothing upstream; chunked alone is read', async () => {
    const json = JSON.stringify({ query: '{ __typename }' });
    // Node frames the body by the final `chunked` and does not decode the coding before it: the gzip
    // body was answered "not valid JSON", and a plain one declared `deflate` was run as it was.
    for (const [coding, body] of [
      ['gzip, chunked', gzipSync(json)],
      ['deflate, chunked', Buffer.from(json)],
      ['x-unknown , Chunked', Buffer.from(json)],
    ] as const) {
      const before = gw.calls.length;
      const [answer] = answersOf(await rawGatewayExchange(chunkedPost(coding, body, 'connection: close\r\n')));
      expect(answer?.status, coding).toBe(415);
      expect(answer?.json?.errors?.[0]?.extensions, coding).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNSUPPORTED_TRANSFER_CODING' });
      expect(gw.calls.slice(before)).toEqual([]);
    }
    for (const coding of ['chunked', 'Chunked']) {
      const [answer] = answersOf(await rawGatewayExchange(chunkedPost(coding, Buffer.from(json), 'connection: close\r\n')));
      expect(answer?.json, coding).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('a refused body is never parsed as the next request: the request pipelined after it is read from its own first byte, or the connection closes', async () => {
    // The refused body is itself a whole request; were it parsed as one, its answer would say `smuggled`.
    const smuggled = `GET /graphql?query=${encodeURIComponent('{ smuggled: __typename }')} HTTP/1.1\r\nHost: ${new URL(gw.url).host}\r\napollo-require-preflight: 1\r\n\r\n`;
    const next = lengthPost('', JSON.stringify({ query: '{ next: __typename }' }));
    const refusals: Array<[string, Buffer, number]> = [
      ['413 (declared too large)', lengthPost('', smuggled + ' '.repeat(MAX_BODY)), 413],
      ['415 content coding', lengthPost('content-encoding: gzip\r\n', smuggled), 415],
      ['415 charset', lengthPost('', smuggled, 'application/json; charset=iso-8859-1'), 415],
      ['415 transfer coding', chunkedPost('gzip, chunked', Buffer.from(smuggled)), 415],
    ];
    for (const [name, refused, status] of refusals) {
      const raw = await rawGatewayExchange(Buffer.concat([refused, next]));
      const answers = answersOf(raw);
      expect(answers[0]?.status, name).toBe(status);
      expect(raw, name).not.toContain('smuggled');
      // Either the connection closed after the refusal, or the next request got its own answer.
      expect(
        answers.slice(1).map((a) => a.json),
        name,
      ).toEqual(answers.length > 1 ? [{ data: { next: 'Query' } }] : []);
    }
  });

  it('invalid UTF-8 bytes in an id → a GraphQL error with a code, nothing upstream', async () => {
    const body = Buffer.concat([Buffer.from('{"query":"{ user(id: \\"ad'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('@x.example\\") { id } }"}')]);
    const { answer, calls } = await send(body);
    expectClear(answer);
    expect(firstCode(answer)).toBe('BAD_USER_INPUT');
    expect(calls).toEqual([]);
  });

  it('a GET mutation is refused (405)', async () => {
    const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('mutation { disableAccount(input: { user: "x@y.example" }) { succeeded } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect([400, 405]).toContain(res.status);
    expectClear({ status: res.status, text: '', json: (await res.json()) as HttpAnswer['json'] });
  });
});

describe('hostile operations', () => {
  it('a deeply nested query → OPERATION_TOO_COMPLEX, nothing upstream', async () => {
    let q = '{ id }';
    for (let i = 0; i < 40; i++) q = `{ manager ${q} }`;
    const { answer, calls } = await gql(`{ user(id: "x@y.example") ${q} }`);
    expectClear(answer);
    expect(answer.status).toBe(400);
    expect(firstCode(answer)).toBe('OPERATION_TOO_COMPLEX');
    expect(calls).toEqual([]);
  });

  it('an alias bomb → OPERATION_TOO_COMPLEX, nothing upstream', async () => {
    const aliases = Array.from({ length: 400 }, (_, i) => `a${i}: users(first: 999) { nodes { id } }`).join(' ');
    const { answer, calls } = await gql(`{ ${aliases} }`);
    expectClear(answer);
    expect(answer.status).toBe(400);
    expect(['BAD_USER_INPUT', 'OPERATION_TOO_COMPLEX']).toContain(firstCode(answer));
    const small = await gql(`{ ${Array.from({ length: 60 }, (_, i) => `a${i}: users(first: 1) { nodes { id } }`).join(' ')} }`);
    expect(firstCode(small.answer)).toBe('OPERATION_TOO_COMPLEX');
    expect(small.calls).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('a subscription (the schema has none) → 400 BAD_USER_INPUT naming what to send, not an internal error', async () => {
    const { answer, calls } = await gql('subscription { userChanged { id } }');
    expectClear(answer);
    expect(answer.status).toBe(400);
    expect(firstCode(answer)).toBe('BAD_USER_INPUT');
    expect(answer.json?.errors?.map((e) => e.message)).toContain('This API has no subscription operations; send a query or a mutation.');
    const bare = await gql('subscription { __typename }');
    expect(bare.answer.status).toBe(400);
    expect(firstCode(bare.answer)).toBe('BAD_USER_INPUT');
    expect([...calls, ...bare.calls]).toEqual([]);
    expect(gw.logText()).not.toContain('unexpected error while executing an operation');
  });

  it('a document over the token limit → 400 with a code', async () => {
    const { answer, calls } = await gql(`{ ${Array.from({ length: 6000 }, () => '__typename').join(' ')} }`);
    expect(answer.status).toBe(400);
    expectClear(answer);
    expect(['BAD_USER_INPUT', 'OPERATION_TOO_COMPLEX']).toContain(firstCode(answer));
    expect(calls).toEqual([]);
  });

  it('a literal nested deeper than the parser recurses (under the token limit) → 400 BAD_USER_INPUT saying so, not the engine’s stack message', async () => {
    for (const literal of ['['.repeat(2_400) + '1' + ']'.repeat(2_400), '{a:'.repeat(1_600) + '1' + '}'.repeat(1_600)]) {
      const { answer, calls } = await gql(`{ user(id: ${literal}) { id } }`);
      expect(answer.status).toBe(400);
      expectClear(answer);
      expect(answer.json?.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_PARSE_FAILED' });
      expect(answer.json?.errors?.[0]?.message).toMatch(/nests .* too deeply/);
      expect(JSON.stringify(answer.json)).not.toMatch(/call stack/i);
      expect(calls).toEqual([]);
    }
  });

  it('huge and out-of-range `first` → BAD_USER_INPUT, nothing upstream', async () => {
    for (const first of ['100000', '0', '-5', '2147483647', '99999999999999']) {
      const { answer, calls } = await gql(`{ users(first: ${first}) { nodes { id } } }`);
      expectClear(answer);
      expect(firstCode(answer), first).toBe('BAD_USER_INPUT');
      expect(calls).toEqual([]);
    }
  });

  it('wrong variable types → 400 BAD_USER_INPUT, nothing upstream', async () => {
    const variants: Array<[string, Record<string, unknown>]> = [
      ['query($n: Int) { users(first: $n) { nodes { id } } }', { n: 'many' }],
      ['query($n: Int) { users(first: $n) { nodes { id } } }', { n: 1.5 }],
      ['query($id: ID!) { user(id: $id) { id } }', { id: { $ne: null } }],
      ['query($id: ID!) { user(id: $id) { id } }', { id: ['a', 'b'] }],
      ['query($id: ID!) { user(id: $id) { id } }', {}],
      ['query($f: UserFilter) { users(filter: $f) { nodes { id } } }', { f: { displayNameStartsWith: 5, bogus: true } }],
    ];
    for (const [query, variables] of variants) {
      const { answer, calls } = await gql(query, variables);
      expectClear(answer);
      expect(answer.status).toBe(400);
      expect(firstCode(answer)).toBe('BAD_USER_INPUT');
      expect(calls).toEqual([]);
    }
  });

  it('tampered and foreign cursors and delta tokens → BAD_USER_INPUT, no call to any other host', async () => {
    const first = await gql('{ users(first: 2) { pageInfo { endCursor } } }');
    const cursor = (first.answer.json?.data as { users: { pageInfo: { endCursor: string } } }).users.pageInfo.endCursor;
    const flipped = cursor.slice(0, -2) + (cursor.at(-2) === 'A' ? 'B' : 'A') + cursor.at(-1);
    const forged = Buffer.from(JSON.stringify({ nextLink: 'https://evil.example/v1.0/users?$skiptoken=x' })).toString('base64url');
    for (const after of [flipped, forged, 'not-a-cursor', '', 'a'.repeat(5000), '../../../etc/passwd', '%00']) {
      const { answer, calls } = await gql('query($a: String) { users(first: 2, after: $a) { nodes { id } } }', { a: after });
      expectClear(answer);
      expect(firstCode(answer), after.slice(0, 20)).toBe('BAD_USER_INPUT');
      expectNoRawUpstream(calls, 'evil.example');
    }
    for (const token of [forged, 'garbage', cursor]) {
      const { answer, calls } = await gql('query($t: String) { userChanges(deltaToken: $t) { nextDeltaToken } }', { t: token });
      expectClear(answer);
      expect(firstCode(answer)).toBe('BAD_USER_INPUT');
      expectNoRawUpstream(calls, 'evil.example');
    }
  });
});

describe('deeply nested variables', () => {
  // JSON text built by hand: JSON.stringify itself overflows the stack on values this deep.
  const nestedFilter = (levels: number) => `${'{"and":['.repeat(levels)}{"department":"Legal"}${']}'.repeat(levels)}`;
  const nestedList = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
  const body = (query: string, rest: string) => `{"query":${JSON.stringify(query)},${rest}}`;
  const FILTERED = 'query($f: UserFilter) { users(first: 1, filter: $f) { nodes { id } } }';

  it('a UserFilter nested through ~10 KB of variables → 400 BAD_USER_INPUT naming the limit, never a 500, nothing upstream', async () => {
    for (const levels of [1_200, 15_000]) {
      const { answer, calls } = await send(body(FILTERED, `"variables":{"f":${nestedFilter(levels)}}`));
      expectClear(answer);
      expect(answer.status).toBe(400);
      expect(firstCode(answer)).toBe('BAD_USER_INPUT');
      expect(answer.json?.errors?.[0]?.message).toMatch(/deeper than 32 levels/);
      expect(calls).toEqual([]);
    }
  });

  it('deep JSON in an undeclared variable or in extensions is refused the same way', async () => {
    for (const [member, rest] of [
      ['variables', `"variables":{"unused":${nestedList(50_000)}}`],
      ['extensions', `"extensions":{"deep":${nestedList(50_000)}}`],
    ] as const) {
      const { answer, calls } = await send(body('{ users(first: 1) { nodes { id } } }', rest));
      expectClear(answer);
      expect(answer.status).toBe(400);
      expect(firstCode(answer)).toBe('BAD_USER_INPUT');
      // The message names the member that nests too deeply, not always `variables`.
      expect(answer.json?.errors?.[0]?.message).toContain(`\`${member}\` nest deeper than 32 levels`);
      expect(calls).toEqual([]);
    }
  });

  it('deep variables in a GET request are refused too', async () => {
    const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent(FILTERED)}&variables=${encodeURIComponent(`{"f":${nestedFilter(300)}}`)}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    const json = (await res.json()) as HttpAnswer['json'];
    expectClear({ status: res.status, text: '', json });
    expect(res.status).toBe(400);
    expect(json?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('a filter nested in the document itself (as deep as the token limit allows) → BAD_USER_INPUT, never a 500', async () => {
    for (const levels of [800, 2_000]) {
      const literal = `${'{ and: ['.repeat(levels)}{ department: "Legal" }${'] }'.repeat(levels)}`;
      const { answer, calls } = await gql(`{ users(first: 1, filter: ${literal}) { nodes { id } } }`);
      expectClear(answer);
      expect(answer.status).toBe(400);
      expect(firstCode(answer)).toBe('BAD_USER_INPUT');
      expect(calls).toEqual([]);
    }
  });

  it('a filter at its nesting limit still works, and one level more is refused by the filter’s own limit', async () => {
    const ok = await send(body(FILTERED, `"variables":{"f":${nestedFilter(5)}}`));
    expect(ok.answer.json?.errors).toBeUndefined();
    const deeper = await send(body(FILTERED, `"variables":{"f":${nestedFilter(6)}}`));
    expect(firstCode(deeper.answer)).toBe('BAD_USER_INPUT');
    expect(deeper.answer.json?.errors?.[0]?.message).toMatch(/deeper than 5 levels/);
    expect(deeper.calls).toEqual([]);
  });
});

describe('unbounded filter and search strings', () => {
  it('a 150 KB filter value, a 150 KB search term and a 1,000-value list are refused before anything is sent', async () => {
    const huge = 'a'.repeat(150_000);
    const cases: Array<[string, Record<string, unknown>]> = [
      ['query($v: String) { users(filter: { department: $v }) { nodes { id } } }', { v: huge }],
      ['query($v: String) { users(search: { displayName: $v }) { nodes { id } } }', { v: huge }],
      ['query($v: [String!]) { users(filter: { departmentIn: $v }) { nodes { id } } }', { v: Array.from({ length: 1000 }, (_, i) => `Dept ${i}`) }],
    ];
    for (const [query, variables] of cases) {
      const { answer, calls } = await gql(query, variables);
      expectClear(answer);
      expect(firstCode(answer), query).toBe('BAD_USER_INPUT');
      expect(calls, query).toEqual([]);
    }
  });
});

describe('ids Graph cannot address', () => {
  const ids = [
    'a/b@x.example',
    '../../groups',
    'x@y.example/../../../groups',
    'x?$select=passwordProfile',
    'x#frag@y.example',
    'x%2F..%2Fgroups@y.example',
    '..',
    'adele\u0000@x.example',
    '$adele@x.example',
    "o'neil') or 1 eq 1",
    ' ',
    'a'.repeat(100_000),
  ];
  for (const id of ids) {
    it(`user(id: ${JSON.stringify(id.slice(0, 40))}) → null or BAD_USER_INPUT, never the raw id upstream`, async () => {
      const { answer, calls } = await gql('query($id: ID!) { user(id: $id) { id displayName manager { id } directReports(first: 2) { nodes { id } } } }', {
        id,
      });
      expectClear(answer);
      const code = firstCode(answer);
      if (code !== undefined) expect(code).toBe('BAD_USER_INPUT');
      else expect((answer.json?.data as { user: unknown }).user).toBeNull();
      if (/[/?%]|\.\./.test(id) || id.includes(String.fromCharCode(0)) || id.length > 1000) expect(calls).toEqual([]);
      if (id.startsWith('$')) {
        // docs/graph-facts.md#addressing-users-and-encoding: `/users/$x@y` fails at Graph; the key-in-parentheses form is the documented way.
        for (const call of calls) expect(call.url.includes(`/users/${id}`)).toBe(false);
      } else if (id.length > 1) expectNoRawUpstream(calls, id);
      // `#` is legal in a UPN (B2B `#EXT#`) and must travel as %23, or Graph would never see the rest.
      if (id.includes('#')) for (const call of calls) expect(new URL(call.url).hash).toBe('');
    });
  }

  it('mutation inputs get the same treatment', async () => {
    for (const id of ['../../groups', 'x?$filter=1', 'a/b@x.example', 'x%2Fy@x.example']) {
      const { answer, calls } = await gql('mutation($id: ID!) { revokeSignInSessions(input: { user: $id }) { succeeded } }', { id });
      expectClear(answer);
      expect(['BAD_USER_INPUT', 'FORBIDDEN', 'UNAUTHENTICATED', 'UNSUPPORTED_DEPLOYMENT_MODE']).toContain(firstCode(answer));
      expectNoRawUpstream(calls, id);
    }
  });
});

describe('OData injection through every string argument', () => {
  const payloads = [
    "' or 1 eq 1",
    "') or startsWith(displayName,'",
    "x' or accountEnabled eq true or displayName eq 'y",
    "&$filter=id eq 'x'",
    '" OR "displayName:a',
    '\\"',
  ];
  const filterFields = ['displayNameStartsWith', 'mailStartsWith', 'userPrincipalNameStartsWith', 'mailEndsWith', 'department', 'jobTitle', 'companyName'];
  const searchFields = ['text', 'displayName', 'mail', 'userPrincipalName', 'jobTitle', 'department'];

  it('filter strings become escaped OData literals and match nothing', async () => {
    for (const field of filterFields) {
      for (const payload of payloads) {
        const { answer, calls } = await gql(`query($v: String) { users(first: 5, filter: { ${field}: $v }) { nodes { id } } }`, { v: payload });
        expectClear(answer);
        if (firstCode(answer) !== undefined) {
          expect(firstCode(answer)).toBe('BAD_USER_INPUT');
          continue;
        }
        expect((answer.json?.data as { users: { nodes: unknown[] } }).users.nodes, `${field} ${payload}`).toEqual([]);
        const list = calls.filter((c) => new URL(c.url).pathname.endsWith('/users'));
        expect(list).toHaveLength(1);
        const params = new URL(list[0]!.url).searchParams;
        expect(params.getAll('$filter')).toHaveLength(1);
        expect(params.get('$filter')).toContain(`'${payload.replace(/'/g, "''")}'`);
        expect(params.getAll('$top')).toEqual(['5']);
      }
    }
  });

  it('departmentIn and ids lists are escaped too', async () => {
    const { answer, calls } = await gql('query($v: [String!]) { users(first: 5, filter: { departmentIn: $v }) { nodes { id } } }', { v: payloads });
    expectClear(answer);
    if (firstCode(answer) === undefined) {
      const filter = new URL(calls.at(-1)!.url).searchParams.get('$filter')!;
      for (const payload of payloads) expect(filter).toContain(`'${payload.replace(/'/g, "''")}'`);
    }
    const ids = await gql('query($v: [ID!]) { users(first: 5, filter: { ids: $v }) { nodes { id } } }', { v: ["x' or 1 eq 1"] });
    expectClear(ids.answer);
    expect(firstCode(ids.answer)).toBe('BAD_USER_INPUT');
    expect(ids.calls).toEqual([]);
  });

  it('search strings become quoted, backslash-escaped clauses', async () => {
    for (const field of searchFields) {
      for (const payload of payloads) {
        const { answer, calls } = await gql(`query($v: String) { users(first: 5, search: { ${field}: $v }) { nodes { id } } }`, { v: payload });
        expectClear(answer);
        if (firstCode(answer) !== undefined) {
          expect(firstCode(answer)).toBe('BAD_USER_INPUT');
          continue;
        }
        const list = calls.filter((c) => new URL(c.url).pathname.endsWith('/users'));
        expect(list).toHaveLength(1);
        const search = new URL(list[0]!.url).searchParams.getAll('$search');
        expect(search).toHaveLength(1);
        expect(search[0]).toContain(payload.replace(/[\\"]/g, (c) => `\\${c}`));
      }
    }
  });

  it('null bytes and control characters in filter values → BAD_USER_INPUT, nothing upstream', async () => {
    const { answer, calls } = await gql('query($v: String) { users(filter: { department: $v }) { nodes { id } } }', { v: 'Sales\u0000 or 1 eq 1' });
    expectClear(answer);
    expect(firstCode(answer)).toBe('BAD_USER_INPUT');
    expect(calls).toEqual([]);
  });
});

it('the gateway is still healthy after the corpus', async () => {
  const res = await fetch(`${gw.url}/healthz`);
  expect(res.status).toBe(200);
  const ok = await gql('{ users(first: 1) { nodes { id } } }');
  expect(ok.answer.json?.errors).toBeUndefined();
});
