import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

/**
 * With introspection off (the production default) the schema is not published, so error messages
 * must not publish it either: graphql-js's "Did you mean ...?" hints name fields, arguments,
 * input fields, types, enum values and fragment targets the caller did not know. Each kind is
 * sent to a gateway configured with NODE_ENV=production; the development configuration keeps the
 * hints (they are what makes the playground friendly).
 */

let emulator: TestEmulator;
let production: TestGateway;
let development: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  production = await startTestGateway({ emulator, env: { NODE_ENV: 'production', INTROSPECTION: '' } });
  development = await startTestGateway({ emulator });
}, 60_000);

afterAll(async () => {
  await production?.close();
  await development?.close();
  await emulator?.close();
});

interface Probe {
  kind: string;
  query: string;
  variables?: Record<string, unknown>;
  /** Schema names the hint would reveal. */
  hidden: string[];
}

const probes: Probe[] = [
  { kind: 'a field', query: '{ users(first: 1) { nodez { id } } }', hidden: ['"nodes"'] },
  { kind: 'an argument', query: '{ users(frist: 1) { nodes { id } } }', hidden: ['"first"'] },
  { kind: 'a type', query: 'query($f: UserFiltr) { users(filter: $f) { nodes { id } } }', hidden: ['"UserFilter"'] },
  { kind: 'an input field of a literal', query: '{ users(filter: { departmnt: "Sales" }) { nodes { id } } }', hidden: ['"department"'] },
  { kind: 'an enum value of a literal', query: '{ users(orderBy: { field: DISPLAY_NAM }) { nodes { id } } }', hidden: ['DISPLAY_NAME'] },
  {
    kind: 'an enum value of a variable',
    query: 'query($o: UserOrder) { users(orderBy: $o) { nodes { id } } }',
    variables: { o: { field: 'DISPLAY_NAM' } },
    hidden: ['DISPLAY_NAME'],
  },
  {
    kind: 'an input field of a variable',
    query: 'query($f: UserFilter) { users(filter: $f) { nodes { id } } }',
    variables: { f: { departmnt: 'Sales' } },
    hidden: ['"department"'],
  },
  {
    kind: 'a type to spread on',
    query: 'query($id: ID!) { user(id: $id) { authenticationMethods { phoneNumber } } }',
    variables: { id: '00000000-0000-0000-0000-000000000000' },
    hidden: ['PhoneAuthenticationMethod'],
  },
];

describe('"Did you mean" suggestions', () => {
  for (const probe of probes) {
    it(`of ${probe.kind} are not given when introspection is off`, async () => {
      const result = await production.graphql(probe.query, probe.variables);
      expect(result.status).toBe(400);
      expect(result.errors?.length).toBeGreaterThan(0);
      const text = JSON.stringify(result.errors);
      expect(text).not.toMatch(/did you mean/i);
      for (const name of probe.hidden) expect(text).not.toContain(name);
      // The error still says what is wrong with the caller's own text.
      expect(result.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
    });
  }

  it('are given when introspection is on (development)', async () => {
    for (const probe of probes) {
      const result = await development.graphql(probe.query, probe.variables);
      expect(JSON.stringify(result.errors), probe.kind).toMatch(/Did you mean/);
    }
  });

  it('leave no trace in the log lines of the production gateway either', () => {
    expect(production.logLines.join('')).not.toMatch(/did you mean/i);
  });
});

describe('the refusal of introspection', () => {
  it("is the gateway's own sentence, not Apollo Server's advice to its operator", async () => {
    const result = await production.graphql('{ __schema { queryType { name } } }');
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.message).toBe('Introspection is off on this gateway: an operation may not select __schema or __type.');
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(result.errors)).not.toMatch(/Apollo/i);
    expect(production.logLines.join('')).not.toMatch(/ApolloServer in production/);
  });
});
