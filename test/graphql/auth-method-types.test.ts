/**
 * Graph's per-type authentication-method collections may list items without `@odata.type`: the List
 * phoneMethods, emailMethods, fido2Methods, passwordMethods and temporaryAccessPassMethods examples
 * show none, the Microsoft Authenticator one shows it (docs/graph-facts.md#authentication-method-reads).
 * `authenticationMethods(type: X)` must list the user's methods of that type, typed, under both
 * readings (the emulator's `authMethodTypeAnnotation` switch), for the same upstream requests. It used
 * to answer an empty list when the annotation was missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let emulator: TestEmulator;
let gateway: TestGateway;
let person: UserRecord;

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 13, userCount: 80 });
  gateway = await startTestGateway({ emulator, env: { LOG_LEVEL: 'warn' } });
  person = [...emulator.tenant.users.values()].sort(
    (a, b) => new Set(b.authMethods.map((m) => m.type)).size - new Set(a.authMethods.map((m) => m.type)).size,
  )[0]!;
  expect(new Set(person.authMethods.map((m) => m.type)).size).toBeGreaterThanOrEqual(3);
});

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

const ENUM: Record<string, string> = {
  password: 'PASSWORD',
  email: 'EMAIL',
  phone: 'PHONE',
  fido2: 'FIDO2',
  microsoftAuthenticator: 'MICROSOFT_AUTHENTICATOR',
  softwareOath: 'SOFTWARE_OATH',
  windowsHelloForBusiness: 'WINDOWS_HELLO_FOR_BUSINESS',
  temporaryAccessPass: 'TEMPORARY_ACCESS_PASS',
};

const QUERY = `query($id: ID!) { user(id: $id) {
  ${Object.values(ENUM)
    .map((e) => `${e.toLowerCase()}: authenticationMethods(type: ${e}) { __typename id type }`)
    .join('\n  ')}
} }`;

async function read(annotation: 'omitted' | 'present') {
  const set = await emulator.setGraph({ authMethodTypeAnnotation: annotation });
  expect(set.status).toBe(200);
  const before = (await emulator.stats()).graphRequests;
  const result = await gateway.graphql(QUERY, { id: person.id });
  const requests = (await emulator.stats()).graphRequests - before;
  expect(result.errors).toBeUndefined();
  return { user: result.data!.user as Record<string, Array<{ __typename: string; id: string; type: string }>>, requests };
}

describe('authenticationMethods(type:) when Graph leaves @odata.type out of per-type collections', () => {
  it('lists the methods of each type, typed, under both readings for the same upstream requests', async () => {
    try {
      const omitted = await read('omitted');
      const present = await read('present');
      for (const [type, name] of Object.entries(ENUM)) {
        const expected = person.authMethods
          .filter((m) => m.type === type)
          .map((m) => m.id)
          .sort();
        for (const reading of [omitted, present]) {
          const got = reading.user[name.toLowerCase()]!;
          expect(got.map((m) => m.id).sort(), type).toEqual(expected);
          expect(
            got.every((m) => m.type === name && m.__typename.toUpperCase().startsWith(name.replace(/_/g, ''))),
            type,
          ).toBe(true);
        }
      }
      expect(omitted.requests).toBe(present.requests);
    } finally {
      await emulator.setGraph({ authMethodTypeAnnotation: 'omitted' });
    }
  });
});
