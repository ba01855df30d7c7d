/**
 * The gateway as an Apollo Federation 2 subgraph (FEDERATION=true), asked directly as a router
 * would ask it (and as an attacker who goes around the router would): `_entities` resolves User
 * references through the operation's own loaders (counted by the emulator, `$select` read off the
 * wire), with the permissions, limits and introspection switch of every other entry point.
 */
import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../../src/emulator/model.js';
import { estimateUpstreamRequests } from '../../../src/graphql/budget/index.js';
import { deploymentModeRule } from '../../../src/graphql/deployment/index.js';
import { federationDefinitionsSdl, withoutFederationSyntax } from '../../../src/graphql/federation/index.js';
import { buildGatewaySchema, loadSchemaSource } from '../../../src/graphql/schema.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { recordingUpstream } from '../../support/recording-upstream.js';
import { apiKeyCallers } from '../../support/api-key-callers.js';
import { distinctUserSelections } from '../../support/user-selections.js';

const READER = 'federation-test-reader-key-0123456789';
const AUTH_READER = 'federation-test-auth-reader-key-0123456789';
const CHANGES_ONLY = 'federation-test-changes-key-0123456789';
const CALLERS = apiKeyCallers({
  reader: { key: READER, permissions: ['Users.Read'] },
  auth: { key: AUTH_READER, permissions: ['Users.Read', 'Users.ReadAuthMethods'] },
  changes: { key: CHANGES_ONLY, permissions: ['Users.ReadChanges'] },
});
const MISSING = ['00000000-0000-4000-8000-00000000dead', '00000000-0000-4000-8000-00000000beef'];
const GET_BY_IDS = 'POST /v1.0/directoryObjects/getByIds';

let emulator: TestEmulator;
let subgraph: TestGateway;
let production: TestGateway;
let standalone: TestGateway;
let users: UserRecord[];
/** Graph URLs the subgraph sent (path and query), in order. */
const sent: URL[] = [];

const recording = recordingUpstream((url) => sent.push(new URL(url)));

const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on User { id displayName mail } } }';
const refs = (ids: readonly string[]) => ids.map((id) => ({ __typename: 'User', id }));
const asReader = (gw: TestGateway, query: string, variables?: Record<string, unknown>) => gw.graphql(query, variables, { 'x-api-key': READER });

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 11, userCount: 300 });
  const env = { LOG_LEVEL: 'warn', ...CALLERS };
  subgraph = await startTestGateway({ emulator, env: { ...env, FEDERATION: 'true' }, upstream: recording });
  // INTROSPECTION unset under NODE_ENV=production: off, as in a real deployment.
  production = await startTestGateway({ emulator, env: { ...env, FEDERATION: 'true', NODE_ENV: 'production', INTROSPECTION: '' } });
  standalone = await startTestGateway({ emulator, env });
  users = [...emulator.tenant.users.values()];
  // Warm the Graph tokens so token requests do not blur the counts below.
  for (const gw of [subgraph, production, standalone]) expect((await asReader(gw, '{ users(first: 1) { nodes { id } } }')).errors).toBeUndefined();
}, 60_000);
afterAll(async () => {
  await subgraph?.close();
  await production?.close();
  await standalone?.close();
  await emulator?.close();
});
beforeEach(async () => {
  await emulator.resetStats();
  sent.length = 0;
});

describe('_entities resolves User references through the per-request loaders', () => {
  it('answers 50 references (two of them to missing users) with one getByIds whose $select is the selection', async () => {
    const chosen = users.slice(0, 48).map((u) => u.id);
    const ids = [...chosen.slice(0, 20), MISSING[0]!, ...chosen.slice(20), MISSING[1]!];
    const result = await asReader(subgraph, ENTITIES, { r: refs(ids) });
    expect(result.errors).toBeUndefined();
    const entities = result.data!._entities as Array<{ __typename: string; id: string; displayName: string; mail: string | null } | null>;
    expect(entities).toHaveLength(50);
    ids.forEach((id, i) => {
      const record = emulator.tenant.users.get(id);
      if (!record) return expect(entities[i]).toBeNull();
      expect(entities[i]).toEqual({ __typename: 'User', id, displayName: record.displayName, mail: record.mail });
    });
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(stats.byRoute[GET_BY_IDS]).toBe(1);
    const graphCalls = sent.filter((u) => u.pathname.startsWith('/v1.0/'));
    expect(graphCalls).toHaveLength(1);
    expect(graphCalls[0]!.pathname).toBe('/v1.0/directoryObjects/getByIds');
    expect(graphCalls[0]!.searchParams.get('$select')).toBe('id,displayName,mail');
  });

  it('with the manager selected, sends $batch items with $expand=manager: 50 references in ceil(50 / 20) = 3 POSTs', async () => {
    const chosen = users.filter((u) => u.managerId !== null).slice(0, 50);
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { displayName manager { id displayName } } } }';
    const result = await asReader(subgraph, query, { r: refs(chosen.map((u) => u.id)) });
    expect(result.errors).toBeUndefined();
    chosen.forEach((u, i) => {
      const manager = emulator.tenant.users.get(u.managerId!)!;
      expect(result.data!._entities[i]).toEqual({ displayName: u.displayName, manager: { id: manager.id, displayName: manager.displayName } });
    });
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(3);
    expect(stats.batch.requests).toBe(3);
    expect(stats.batch.items).toBe(50);
    // Each item asks for the user with its manager expanded, never a second round for managers.
    expect(Object.keys(stats.batch.itemsByRoute)).toEqual(['GET /v1.0/users/{id}']);
  });

  it('shares the loader with user(id:) in the same operation: one getByIds for both', async () => {
    const [a, b, c] = users.slice(60, 63);
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id displayName } } one: user(id: "${c!.id}") { id displayName } }`;
    const result = await asReader(subgraph, query, { r: refs([a!.id, b!.id]) });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      _entities: [a, b].map((u) => ({ id: u!.id, displayName: u!.displayName })),
      one: { id: c!.id, displayName: c!.displayName },
    });
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(stats.byRoute[GET_BY_IDS]).toBe(1);
  });

  it('refuses a representation that is not a User GUID reference alone, with BAD_USER_INPUT, never echoing it', async () => {
    const good = users[70]!;
    const representations = [
      { __typename: 'User', id: good.id },
      { __typename: 'User', id: 'adele.vance@contoso.example' },
      { __typename: 'Ticket', id: good.id },
      'not-an-object-3f9a',
      { __typename: 'User' },
      { __typename: 'User', id: '../../users?$select=passwordProfile' },
    ];
    const result = await asReader(subgraph, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { displayName } } }', { r: representations });
    expect(result.status).toBe(200);
    expect(result.data!._entities).toEqual([{ displayName: good.displayName }, null, null, null, null, null]);
    expect(result.errors!.map((e) => e.path![1]).sort()).toEqual([1, 2, 3, 4, 5]);
    for (const error of result.errors!) {
      expect(error.extensions!.code).toBe('BAD_USER_INPUT');
      expect(error.message).not.toMatch(/adele|Ticket|3f9a|passwordProfile/);
    }
    expect((await emulator.stats()).graphRequests).toBe(1);
  });
});

describe('who may use the federation entry points', () => {
  it('refuses _entities to a caller without Users.Read before anything reaches Graph', async () => {
    const result = await subgraph.graphql(ENTITIES, { r: refs([users[0]!.id]) }, { 'x-api-key': CHANGES_ONLY });
    expect(result.status).toBe(403);
    expect(result.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(result.errors![0]!.message).toContain('Query._entities needs Users.Read');
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it.each([
    ['an inline fragment', 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { displayName authenticationMethods { type } } } }'],
    [
      'a named fragment on User',
      'query($r: [_Any!]!) { _entities(representations: $r) { ...Card } } fragment Card on User { displayName authenticationMethods { type } }',
    ],
    [
      'a fragment on the _Entity union',
      'query($r: [_Any!]!) { _entities(representations: $r) { ...E } } fragment E on _Entity { ... on User { m: authenticationMethods { type } } }',
    ],
  ])('checks the fields selected under _entities through %s: authenticationMethods needs Users.ReadAuthMethods', async (_how, query) => {
    const target = users[5]!;
    const refused = await asReader(subgraph, query, { r: refs([target.id]) });
    expect(refused.status).toBe(403);
    expect(refused.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(refused.errors![0]!.message).toContain('(User.authenticationMethods needs Users.ReadAuthMethods)');
    expect((await emulator.stats()).graphRequests).toBe(0);
    const allowed = await subgraph.graphql(query, { r: refs([target.id]) }, { 'x-api-key': AUTH_READER });
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data!._entities).toHaveLength(1);
  });

  it('publishes the subgraph SDL through _service only with introspection on, and only to a caller with Users.Read', async () => {
    const served = await asReader(subgraph, '{ _service { sdl } }');
    expect(served.errors).toBeUndefined();
    expect(served.data!._service.sdl).toMatch(/type User\s+@key\(fields: "id"\)/);
    expect(served.data!._service.sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])');
    const noPermission = await subgraph.graphql('{ _service { sdl } }', undefined, { 'x-api-key': CHANGES_ONLY });
    expect(noPermission.errors![0]!.extensions!.code).toBe('FORBIDDEN');
  });

  it.each([
    ['plainly', '{ _service { sdl } }'],
    ['under an alias', '{ schema: _service { sdl } }'],
    ['in a fragment on Query', '{ ...S } fragment S on Query { _service { sdl } }'],
    ['next to a permitted field', '{ _service { sdl } users(first: 1) { nodes { id } } }'],
  ])('refuses _service %s in production (introspection off), whatever the caller holds', async (_how, query) => {
    const result = await asReader(production, query);
    expect(result.data ?? null).toBeNull();
    expect(result.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(result.errors![0]!.message).toMatch(/INTROSPECTION=true/);
    expect(JSON.stringify(result)).not.toContain('@key');
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('refuses more than 1000 representations in one operation before Graph, counting every _entities of it', async () => {
    // The same user over and over is one Graph request, and the answer repeats the selection for
    // each reference: 14,500 of them with 100 fields aborted a production build (128 MB heap),
    // test/reliability/memory-bounds.test.ts.
    const one = users[20]!.id;
    const many = refs(new Array<string>(1001).fill(one));
    const refused = await asReader(production, ENTITIES, { r: many });
    expect(refused.status).toBe(400);
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', limit: 'maxEntityRepresentations', max: 1000, found: 1001 });
    // Aliases reusing one variable count together; so do representations written in the document.
    const aliased = await asReader(
      production,
      'query($r: [_Any!]!) { a: _entities(representations: $r) { __typename } b: _entities(representations: $r) { __typename } }',
      {
        r: refs(new Array<string>(501).fill(one)),
      },
    );
    expect(aliased.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', found: 1002 });
    const literal = `[${new Array(400).fill(`{ __typename: "User", id: "${one}" }`).join(' ')}]`;
    const mixed = await asReader(
      production,
      `query($r: [_Any!]!) { a: _entities(representations: ${literal}) { __typename } b: _entities(representations: $r) { __typename } }`,
      {
        r: refs(new Array<string>(601).fill(one)),
      },
    );
    expect(mixed.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', found: 1001 });
    expect((await emulator.stats()).graphRequests).toBe(0);
    // 1000 are served.
    const served = await asReader(production, ENTITIES, { r: many.slice(1) });
    expect(served.errors).toBeUndefined();
    expect(served.data!._entities).toHaveLength(1000);
  });

  it('serves 1000 different references without a leak warning: the lookups share one listener on the operation signal', async () => {
    // Each coalesced lookup listened to the operation's signal on its own: 1000 of them passed the
    // 256 the signal allows, and Node printed a MaxListenersExceededWarning to stderr (outside the
    // JSON log) for an operation within every limit.
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const missing = Array.from({ length: 1000 - users.length }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      const served = await asReader(production, ENTITIES, { r: refs([...users.map((u) => u.id), ...missing]) });
      expect(served.errors).toBeUndefined();
      expect(served.data!._entities).toHaveLength(1000);
      expect((served.data!._entities as Array<unknown>).filter((e) => e !== null)).toHaveLength(users.length);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('sends no federated trace (ftv1) to a caller who asks for one', async () => {
    const res = await fetch(`${subgraph.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': READER, 'apollo-federation-include-trace': 'ftv1' },
      body: JSON.stringify({ query: ENTITIES, variables: { r: refs([users[3]!.id]) } }),
    });
    const body = (await res.json()) as { data: { _entities: unknown[] }; extensions?: Record<string, unknown> };
    expect(body.data._entities).toHaveLength(1);
    expect(body.extensions?.ftv1).toBeUndefined();
  });

  it('keeps introspection and the SDL route closed in production, and _entities working there', async () => {
    const introspection = await asReader(production, '{ __schema { types { name } } }');
    expect(introspection.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect((await fetch(`${production.url}/schema.graphql`)).status).toBe(404);
    const user = users[9]!;
    const entities = await asReader(production, ENTITIES, { r: refs([user.id]) });
    expect(entities.errors).toBeUndefined();
    expect(entities.data!._entities[0].displayName).toBe(user.displayName);
  });
});

describe('without FEDERATION=true', () => {
  it('has no federation surface: no _entities, no _service, no federation types or directives', async () => {
    const entities = await asReader(standalone, ENTITIES, { r: refs([users[0]!.id]) });
    expect(entities.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' });
    const service = await asReader(standalone, '{ _service { sdl } }');
    expect(service.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    const introspection = await asReader(standalone, '{ __schema { types { name } directives { name } } }');
    const names = [...introspection.data!.__schema.types, ...introspection.data!.__schema.directives].map((t: { name: string }) => t.name);
    expect(names).toContain('User');
    expect(names.filter((n) => /^_[A-Z]|^link__|^federation__|^key$|^link$/.test(n))).toEqual([]);
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('serves an SDL that tools without federation support can build (no @link, no @key)', async () => {
    const sdl = await (await fetch(`${standalone.url}/schema.graphql`)).text();
    expect(sdl).toContain('type User {');
    expect(sdl).not.toMatch(/@key\(|@link\(/);
    expect(() => buildSchema(sdl)).not.toThrow();
    // The federated gateway serves the subgraph SDL as written in schema/, for `rover supergraph compose`.
    const subgraphSdl = await (await fetch(`${subgraph.url}/schema.graphql`)).text();
    expect(subgraphSdl).toBe(loadSchemaSource());
    expect(subgraphSdl).toMatch(/type User @key\(fields: "id"\) \{/);
  });
});

describe('the federation syntax of schema/', () => {
  it('is cut out exactly, leaving the rest of the SDL as written', () => {
    const source = loadSchemaSource();
    const plain = withoutFederationSyntax(source);
    expect(plain).toBe(source.replace(' @key(fields: "id")', '').replace(/^extend schema @link\([^\n]*\)$/m, ''));
  });

  it("is known to codegen through the subgraph library's own definitions of @link and @key", () => {
    const prelude = federationDefinitionsSdl(loadSchemaSource());
    expect(prelude).toContain('directive @key(fields: federation__FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE');
    expect(prelude).toMatch(/directive @link\(/);
    // With the prelude, the SDL as written is a valid schema for any graphql-js tool.
    expect(() => buildSchema(`${loadSchemaSource()}\n${prelude}`)).not.toThrow();
  });
});

describe('what _entities costs upstream (the budget estimate)', () => {
  const schema = buildGatewaySchema({ federation: true });
  const estimate = (query: string, count: number, extra: Array<Record<string, unknown>> = []) =>
    estimateUpstreamRequests({
      schema,
      document: parse(query),
      variables: { r: [...refs(users.slice(0, count).map((u) => u.id)), ...extra] },
    })!;

  it('costs N references what N user(id:) lookups cost', () => {
    expect(estimate(ENTITIES, 50).total).toBe(1);
    expect(estimate(ENTITIES, 250).total).toBe(1);
    expect(estimate('query($r: [_Any!]!) { _entities(representations: $r) { ... on User { manager { id } } } }', 50).total).toBe(3);
    // Fields under `... on User` are costed as under user(id:): 50 users' reports are 3 more $batch POSTs.
    const withReports = estimate('query($r: [_Any!]!) { _entities(representations: $r) { ... on User { directReports(first: 5) { nodes { id } } } } }', 50);
    expect(withReports.byPath).toEqual({ _entities: 1, '_entities.directReports': 3 });
    expect(estimate('query($r: [_Any!]!) { _entities(representations: $r) { ...E } } fragment E on _Entity { ... on User { manager { id } } }', 40).total).toBe(
      2,
    );
  });

  it('counts every reference with a GUID id, whatever its __typename; references Graph never sees cost nothing', () => {
    const others = [{ __typename: 'Ticket', id: MISSING[0] }, { __typename: 'User', id: 'adele@contoso.example' }, { __typename: 'User' }];
    expect(estimate('query($r: [_Any!]!) { _entities(representations: $r) { ... on User { manager { id } } } }', 20, others).total).toBe(2);
    expect(estimate('query($r: [_Any!]!) { _entities(representations: $r) { ... on User { manager { id } } } }', 0, others.slice(1)).total).toBe(0);
  });

  it('keeps the budget on references whose id is a GUID with blanks around it, after a cheap estimate of the same shape was cached', async () => {
    // 50 references, 25 aliased report pages each: 1 getByIds + 1250 $batch items (63 POSTs), over
    // the production budget of 50. The resolver trims ids, so " <guid>" is a reference Graph sees.
    const pages = Array.from({ length: 25 }, (_, i) => `r${i}: directReports(first: ${i + 1}) { nodes { id } }`).join(' ');
    const query = `query PaddedIds($r: [_Any!]!) { _entities(representations: $r) { ... on User { ${pages} } } }`;
    const chosen = users.slice(100, 150);
    // Not references: nothing to cost, and the estimate of this shape of variables is cached.
    const cheap = await asReader(production, query, { r: refs(chosen.map(() => 'not-a-guid')) });
    expect(cheap.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    const padded = await asReader(production, query, { r: refs(chosen.map((u) => ` ${u.id}`)) });
    expect(padded.status).toBe(400);
    expect(padded.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', estimatedUpstreamRequests: 64, budget: 50 });
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('counts one getByIds per selection: aliases of _entities selecting differently do not share one', async () => {
    const two =
      'query($r: [_Any!]!) { a: _entities(representations: $r) { ... on User { displayName } } b: _entities(representations: $r) { ... on User { mail } } }';
    expect(estimate(two, 50).total).toBe(2);
    // Against the production gateway (budget 50): 60 aliases in 60 selections, two references
    // each, were estimated at 1 request and sent 60 (one getByIds, or one coalesced lookup, per
    // `$select`). Now they are refused before Graph.
    const selections = distinctUserSelections(60);
    const query = `query($r: [_Any!]!) { ${selections.map((selection, i) => `e${i}: _entities(representations: $r) { ... on User { ${selection} } }`).join(' ')} }`;
    const refused = await asReader(production, query, { r: refs(users.slice(200, 202).map((u) => u.id)) });
    expect(refused.status).toBe(400);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', estimatedUpstreamRequests: 60, budget: 50 });
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('applies the deployment-mode rule to fields selected under _entities', () => {
    const typeDefs = `${loadSchemaSource()}\nextend type User {\n  "A field only a self-deployed gateway serves."\n  hostedNever: String @deployment(requires: SELF_DEPLOYED)\n}\n`;
    const withHostedOnly = buildGatewaySchema({ typeDefs, federation: true });
    const document = parse('query($r: [_Any!]!) { _entities(representations: $r) { ... on User { displayName hostedNever } } }');
    const errors = validate(withHostedOnly, document, [...specifiedRules, deploymentModeRule('hosted')]);
    expect(errors.map((e) => e.originalError?.message ?? e.message)).toEqual([
      expect.stringMatching(/^User\.hostedNever needs the gateway to run in self-deployed mode/),
    ]);
  });
});
