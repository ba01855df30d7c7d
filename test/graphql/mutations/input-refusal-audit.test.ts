import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNPARSED_DOCUMENT_OPERATION } from '../../../src/audit/plugin.js';
import { startDelegatedApp, type DelegatedApp } from '../../support/delegated-app.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';

/**
 * Every mutation attempt leaves exactly one audit event, those refused for their input included
 * (docs/mutations.md#audit). Before, resolvers checked their input before the audit frame, so
 * `disableAccount(input: {user: "../../x"})` or an empty password was answered BAD_USER_INPUT with
 * no event; variables of the wrong type and documents past the parser's token limit left none either.
 *
 * The gateway runs with a delegated Graph identity so that every mutation, changePasswordOnPremises
 * included, reaches its resolver; MAX_TOKENS is low so a refused document stays small.
 */

let emulator: TestEmulator;
let app: DelegatedApp;
const MAX_TOKENS = 300;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  app = await startDelegatedApp(emulator, { env: { MAX_TOKENS: String(MAX_TOKENS), INTROSPECTION: 'true' } });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await emulator?.close();
});

const PASSWORD = 'Refused-Input!Secret#7';
/** Line separator, a forged audit line, a right-to-left override: nothing a user can be called. */
const MALFORMED = '../../x\u2028{"audit":true,"outcome":"succeeded"}\u202E';
const OTHER = 'megan.bowen@contoso.example';

/** Each mutation field with an input naming `$u` as its target; the rest of the input is valid. */
const MUTATIONS: Record<string, string> = {
  terminateSession: '{user: $u}',
  revokeSignInSessions: '{user: $u}',
  changePassword: `{user: $u, password: "${PASSWORD}"}`,
  forceResetPassword: '{user: $u}',
  changePasswordOnPremises: `{user: $u, password: "${PASSWORD}"}`,
  disableAccount: '{user: $u}',
  enableAccount: '{user: $u}',
  createUser: `{userPrincipalName: $u, displayName: "Refused", mailNickname: "refused", password: "${PASSWORD}"}`,
  updateUser: '{user: $u, displayName: "Refused"}',
  deleteUser: '{user: $u}',
  assignManager: `{user: $u, manager: "${OTHER}"}`,
  removeManager: '{user: $u}',
  deleteAuthenticationMethod: '{user: $u, type: EMAIL, methodId: "3ddfcfc8-9383-446f-83cc-3ab9be4be18f"}',
  createTemporaryAccessPass: '{user: $u}',
  deleteTemporaryAccessPass: '{user: $u, methodId: "3ddfcfc8-9383-446f-83cc-3ab9be4be18f"}',
};

const eventsNamed = (operationName: string) => app.auditEvents().filter((e) => e.operationName === operationName);

/** Every audit line written so far, as text: where a password or the forged text would show. */
const auditText = () => app.logLines.filter((l) => l.includes('"audit":true')).join('\n');

describe('a mutation refused for its input is audited once', () => {
  it('the table covers every mutation of the schema', async () => {
    const result = await app.graphql('{ __type(name: "Mutation") { fields { name } } }');
    const names = (result.data.__type.fields as Array<{ name: string }>).map((f) => f.name).sort();
    expect(Object.keys(MUTATIONS).sort()).toEqual(names);
  });

  it.each(Object.entries(MUTATIONS))('%s with a target that cannot be a user: one refused event, no target, nothing sent', async (field, input) => {
    await emulator.resetStats();
    const operationName = `Malformed_${field}`;
    const result = await app.graphql(
      `mutation ${operationName}($u: ${field === 'createUser' ? 'String' : 'ID'}!) { ${field}(input: ${input}) { __typename } }`,
      {
        u: MALFORMED,
      },
    );
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0].extensions.code).toBe('BAD_USER_INPUT');
    expect(result.errors![0].extensions.argument).toBe(field === 'createUser' ? 'userPrincipalName' : 'user');
    const events = eventsNamed(operationName);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ operation: field, outcome: 'refused', reason: 'BAD_USER_INPUT', steps: [], requestIds: [] });
    expect(events[0]).not.toHaveProperty('targetUser');
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it.each([
    ['changePassword', `{user: "${OTHER}", password: ""}`, '`password` must not be empty.'],
    ['changePasswordOnPremises', `{user: "${OTHER}", password: ""}`, '`password` must not be empty.'],
    [
      'createUser',
      `{userPrincipalName: "new.hire@contoso.example", displayName: "N", mailNickname: "n", password: "${PASSWORD}", usageLocation: "GBR"}`,
      /usageLocation/,
    ],
    ['updateUser', `{user: "${OTHER}"}`, /at least one property/],
    ['assignManager', `{user: "${OTHER}", manager: " ${OTHER.toUpperCase()} "}`, 'A user cannot be their own manager.'],
    ['deleteAuthenticationMethod', `{user: "${OTHER}", type: PASSWORD, methodId: "28c10230-6103-485e-b985-444c60001490"}`, /cannot be deleted/],
    ['createTemporaryAccessPass', `{user: "${OTHER}", lifetimeInMinutes: 5}`, /lifetimeInMinutes/],
  ] as const)(
    '%s with a valid target and another input refused: the same answer as before, one refused event naming the target',
    async (field, input, message) => {
      await emulator.resetStats();
      const operationName = `Invalid_${field}`;
      const result = await app.graphql(`mutation ${operationName} { ${field}(input: ${input}) { __typename } }`);
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0].extensions.code).toBe('BAD_USER_INPUT');
      if (typeof message === 'string') expect(result.errors![0].message).toBe(message);
      else expect(result.errors![0].message).toMatch(message);
      const events = eventsNamed(operationName);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        operation: field,
        outcome: 'refused',
        reason: 'BAD_USER_INPUT',
        targetUser: field === 'createUser' ? 'new.hire@contoso.example' : OTHER,
      });
      expect((await emulator.stats()).graphRequests).toBe(0);
    },
  );
});

describe('a mutation whose variables do not fit their types is audited', () => {
  it('one refused event per field, naming the target only when it addresses a user', async () => {
    await emulator.resetStats();
    const result = await app.graphql(
      `mutation Coerce($a: UserActionInput!, $b: ChangePasswordInput!) {
        disableAccount(input: $a) { __typename }
        changePassword(input: $b) { __typename }
      }`,
      { a: { user: true }, b: { user: OTHER, password: PASSWORD, forceChangePasswordNextSignIn: 'yes' } },
    );
    expect(result.status).toBe(400);
    expect(result.errors![0].extensions.code).toBe('BAD_USER_INPUT');
    expect(result.data).toBeUndefined();
    const events = eventsNamed('Coerce');
    expect(events.map((e) => [e.operation, e.outcome, e.reason, e.targetUser])).toEqual([
      ['disableAccount', 'refused', 'BAD_USER_INPUT', undefined],
      ['changePassword', 'refused', 'BAD_USER_INPUT', OTHER],
    ]);
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('a query whose variables do not fit writes none', async () => {
    const before = app.auditEvents().length;
    const result = await app.graphql('query CoerceQuery($id: ID!) { user(id: $id) { id } }', { id: { not: 'an id' } });
    expect(result.status).toBe(400);
    expect(app.auditEvents()).toHaveLength(before);
  });
});

describe('a mutation whose document does not validate is audited', () => {
  it('an input value of the wrong type, or a selection the payload lacks: one refused event per mutation field of the schema', async () => {
    await emulator.resetStats();
    const result = await app.graphql(`mutation Literal {
      disableAccount(input: {user: true}) { __typename }
      changePassword(input: {user: "${OTHER}", password: "${PASSWORD}"}) { noSuchField }
      typo: disableAcount(input: {user: "${OTHER}"}) { __typename }
    }`);
    expect(result.status).toBe(400);
    expect(result.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' });
    // The field the schema lacks is named in no event: its name is the caller's text.
    expect(eventsNamed('Literal').map((e) => [e.operation, e.outcome, e.reason, e.targetUser])).toEqual([
      ['disableAccount', 'refused', 'BAD_USER_INPUT', undefined],
      ['changePassword', 'refused', 'BAD_USER_INPUT', OTHER],
    ]);
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('a query that does not validate, or a mutation naming no field of the schema, writes none', async () => {
    const before = app.auditEvents().length;
    for (const document of [
      'query BadQuery { user(id: true) { id } }',
      'mutation OnlyTypos { disableAcount(input: {user: "x@contoso.example"}) { __typename } }',
    ]) {
      const result = await app.graphql(document);
      expect(result.status).toBe(400);
    }
    expect(app.auditEvents()).toHaveLength(before);
  });
});

describe('a document refused by the token limit', () => {
  const fields = (count: number) =>
    Array.from({ length: count }, (_, i) => `a${i}: changePassword(input: {user: "user${i}@contoso.example", password: "${PASSWORD}"}) { __typename }`).join(
      ' ',
    );

  it('a mutation: one refused event for the whole document, naming its field, with no target and no text of it', async () => {
    await emulator.resetStats();
    const before = app.auditEvents().length;
    // Comments (holding `#` and the word mutation), commas and a byte-order mark come before the keyword.
    const document = `\uFEFF# a comment # with mutation in it\n, ,\n#\r\nmutation  TooLong { ${fields(40)} }`;
    const result = await app.graphql(document);
    expect(result.status).toBe(400);
    // What the caller gets is unchanged (docs/reliability.md#operation-limits).
    expect(result.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_PARSE_FAILED' });
    expect(result.errors![0].message).toMatch(new RegExp(`more tha[nt] ${MAX_TOKENS} tokens`));
    // The document's operation name under the rule of every event (docs/security.md#operation-names-in-audit-events).
    const events = app.auditEvents().slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      operation: 'changePassword',
      operationName: 'TooLong',
      outcome: 'refused',
      reason: 'OPERATION_TOO_COMPLEX',
      steps: [],
      requestIds: [],
    });
    expect(events[0]).not.toHaveProperty('targetUser');
    expect(events[0]).not.toHaveProperty('unlistedRefusals');
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('an anonymous mutation of several fields after a query: one event, operation "document", the fields listed', async () => {
    const before = app.auditEvents().length;
    const more = Array.from({ length: 20 }, (_, i) => `b${i}: disableAccount(input: {user: "user${i}@contoso.example"}) { __typename }`).join(' ');
    const result = await app.graphql(`query Q { me { id } } mutation{ ${fields(30)} ${more} }`);
    expect(result.status).toBe(400);
    const added = app.auditEvents().slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      operation: UNPARSED_DOCUMENT_OPERATION,
      mutationFields: ['changePassword', 'disableAccount'],
      operationName: null,
      reason: 'OPERATION_TOO_COMPLEX',
    });
  });

  it('a mutation broken by a plain syntax error: one event with the code the caller gets', async () => {
    const before = app.auditEvents().length;
    const result = await app.graphql('mutation Broken { disableAccount(');
    expect(result.status).toBe(400);
    const added = app.auditEvents().slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ operation: 'disableAccount', reason: 'BAD_USER_INPUT', reasonDetail: 'GRAPHQL_PARSE_FAILED', httpStatus: 400 });
  });

  it('a query, or a query named "mutation": no event', async () => {
    const before = app.auditEvents().length;
    const users = Array.from({ length: 60 }, (_, i) => `u${i}: user(id: "user${i}@contoso.example") { id }`).join(' ');
    for (const document of [`query TooLongQuery { ${users} }`, `{ ${users} }`, `query mutation { ${users} }`, `mutationX { ${users} }`]) {
      const result = await app.graphql(document);
      expect(result.status).toBe(400);
    }
    expect(app.auditEvents()).toHaveLength(before);
  });
});

it('no audit line holds a password or the caller-chosen text of a target', () => {
  const text = auditText();
  expect(text).toContain('"outcome":"refused"');
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toMatch(/[\u2028\u2029\u202e]|\\u2028|\\u202e|\.\.\/\.\.\/x/i);
});
