/**
 * `User.authenticationMethods` shows every authentication method type Graph v1.0 lists in
 * `GET /users/{id}/authentication/methods` (docs/graph-facts.md#authentication-method-reads): besides the
 * first eight, external authentication methods, Platform Credentials and QR code PIN methods. It used to
 * leave those three out silently, so a review of a compromised account did not see every method on it.
 * Over real sockets against the emulator: each new type is listed with its documented non-secret
 * properties, the `type` filter keeps one type for the same upstream requests as an older type, no PIN
 * or QR code reaches the answer, and a type Graph adds later is still left out without failing the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthMethodRecord, AuthMethodType, UserRecord } from '../../src/emulator/model.js';
import { authMethodTypeOf } from '../../src/graphql/resolvers/authentication-methods.js';
import { EXTERNAL_METHOD, PLATFORM_CREDENTIAL_METHOD, QR_CODE_PIN_METHOD_ID } from '../support/auth-method-examples.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let emulator: TestEmulator;
let gateway: TestGateway;
let person: UserRecord;

/** Kept out of every answer: Graph's Get page says the PIN code reads as null; the fixture sends one anyway. */
const PIN_SENTINEL = '73915528406';
const QR_IMAGE_SENTINEL = 'qr-image-private-d41d8cd9';

// Shapes from the v1.0 pages' examples (test/support/auth-method-examples.ts).
const EXTERNAL = EXTERNAL_METHOD;
const PLATFORM = PLATFORM_CREDENTIAL_METHOD;
const QR: AuthMethodRecord = {
  id: QR_CODE_PIN_METHOD_ID,
  type: 'qrCodePin',
  data: {
    createdDateTime: '2026-01-27T12:00:00Z',
    standardQRCode: { id: QR_CODE_PIN_METHOD_ID, image: QR_IMAGE_SENTINEL, expireDateTime: '2027-01-27T12:00:00Z' },
    pin: { code: PIN_SENTINEL, forceChangePinNextSignIn: false },
  },
};
/** As platformcredentialauthenticationmethod-list's example spells it: `creationDateTime`. */
const PLATFORM_AS_LISTED: AuthMethodRecord = {
  id: 'J18B378Ogh9XIOGmPt81d6p_KXJs1YTxfGgGqeVFJGM1',
  type: 'platformCredential',
  data: { displayName: "Kim's Macbook Pro", creationDateTime: '2023-09-02T03:36:19Z', keyStrength: 'weak', platform: 'macOS' },
};
/** A type Graph might add after this schema (no such type today). */
const FUTURE: AuthMethodRecord = { id: '0f6c7a55-51a4-4bd4-9f43-1d1c1c1c1c1c', type: 'futureKind' as AuthMethodType, data: { displayName: 'later' } };

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 13, userCount: 40 });
  gateway = await startTestGateway({ emulator, env: { LOG_LEVEL: 'warn', DEPLOYMENT_MODE: 'self-deployed' } });
  person = [...emulator.tenant.users.values()].find((u) => u._directoryRoles.length === 0 && u.authMethods.some((m) => m.type === 'phone'))!;
  person.authMethods.push(EXTERNAL, PLATFORM, PLATFORM_AS_LISTED, QR, FUTURE);
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

const ALL = `query($id: ID!) { user(id: $id) { authenticationMethods {
  __typename id type
  ... on ExternalAuthenticationMethod { displayName configurationId createdDateTime }
  ... on PlatformCredentialAuthenticationMethod { displayName keyStrength platform createdDateTime }
  ... on QrCodePinAuthenticationMethod { createdDateTime }
} } }`;

const BY_TYPE = (type: string) => `query($id: ID!) { user(id: $id) { authenticationMethods(type: ${type}) { __typename id type } } }`;

async function measured(query: string) {
  await emulator.resetStats();
  const result = await gateway.graphql(query, { id: person.id });
  const stats = await emulator.stats();
  return { result, stats };
}

type Method = Record<string, unknown> & { __typename: string; id: string; type: string };

describe('authenticationMethods: the types Graph v1.0 added after the first eight', () => {
  it('lists external, Platform Credential and QR code PIN methods with their documented fields, and no PIN or QR code', async () => {
    const { result } = await measured(ALL);
    expect(result.errors).toBeUndefined();
    const methods = (result.data!.user as { authenticationMethods: Method[] }).authenticationMethods;
    expect(methods.find((m) => m.id === EXTERNAL.id)).toEqual({
      __typename: 'ExternalAuthenticationMethod',
      id: EXTERNAL.id,
      type: 'EXTERNAL',
      displayName: 'Adatum',
      configurationId: '26310fee-860b-4eab-8749-ab730dcf335e',
      createdDateTime: '2025-04-02T16:01:39Z',
    });
    expect(methods.find((m) => m.id === PLATFORM.id)).toEqual({
      __typename: 'PlatformCredentialAuthenticationMethod',
      id: PLATFORM.id,
      type: 'PLATFORM_CREDENTIAL',
      displayName: 'My Macbook Pro',
      keyStrength: 'normal',
      platform: 'macOS',
      createdDateTime: '2023-09-02T04:16:49Z',
    });
    // Sources disagree on the name of the registration time; either reaches createdDateTime.
    expect(methods.find((m) => m.id === PLATFORM_AS_LISTED.id)).toMatchObject({ keyStrength: 'weak', createdDateTime: '2023-09-02T03:36:19Z' });
    expect(methods.find((m) => m.id === QR.id)).toEqual({
      __typename: 'QrCodePinAuthenticationMethod',
      id: QR.id,
      type: 'QR_CODE_PIN',
      createdDateTime: '2026-01-27T12:00:00Z',
    });
    // Every method the emulator holds for the user but the later one, each once.
    expect(methods.map((m) => m.id).sort()).toEqual(
      person.authMethods
        .filter((m) => m !== FUTURE)
        .map((m) => m.id)
        .sort(),
    );
    const text = JSON.stringify(result);
    expect(text).not.toContain(PIN_SENTINEL);
    expect(text).not.toContain(QR_IMAGE_SENTINEL);
  });

  it('has no field for the PIN or the QR codes', async () => {
    for (const field of ['pin', 'standardQRCode', 'temporaryQRCode']) {
      const result = await gateway.graphql(
        `query($id: ID!) { user(id: $id) { authenticationMethods { ... on QrCodePinAuthenticationMethod { ${field} } } } }`,
        {
          id: person.id,
        },
      );
      expect(result.data, field).toBeUndefined();
      expect(result.errors?.[0]?.message, field).toMatch(/Cannot query field/);
    }
  });

  it('the type filter keeps one type, each for the same upstream requests as an older type', async () => {
    const baseline = await measured(BY_TYPE('PHONE'));
    expect(baseline.result.errors).toBeUndefined();
    const cases: Array<[string, AuthMethodRecord, string]> = [
      ['EXTERNAL', EXTERNAL, 'externalAuthenticationMethods'],
      ['PLATFORM_CREDENTIAL', PLATFORM, 'platformCredentialMethods'],
      // No per-type collection (qrCodePinMethod is a single object): read from the mixed collection.
      ['QR_CODE_PIN', QR, 'methods'],
    ];
    for (const [type, method, collection] of cases) {
      const { result, stats } = await measured(BY_TYPE(type));
      expect(result.errors, type).toBeUndefined();
      const methods = (result.data!.user as { authenticationMethods: Method[] }).authenticationMethods;
      expect(
        methods.map((m) => [m.id, m.type]),
        type,
      ).toEqual(person.authMethods.filter((m) => m.type === method.type).map((m) => [m.id, type]));
      expect(stats.graphRequests, type).toBe(baseline.stats.graphRequests);
      const routes = Object.keys({ ...stats.byRoute, ...stats.batch.itemsByRoute }).filter((r) => r.includes('/authentication/'));
      expect(routes, type).toEqual([expect.stringMatching(new RegExp(`/authentication/${collection}$`))]);
    }
  });

  it('deleteAuthenticationMethod refuses QR_CODE_PIN as BAD_USER_INPUT before any DELETE reaches Graph', async () => {
    await emulator.resetStats();
    const result = await gateway.graphql(
      `mutation { deleteAuthenticationMethod(input: {user: "${person.id}", type: QR_CODE_PIN, methodId: "${QR.id}"}) { methodId } }`,
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toContain('cannot be deleted through the gateway');
    expect(Object.keys((await emulator.stats()).byRoute).filter((r) => r.startsWith('DELETE'))).toEqual([]);
    expect(person.authMethods).toContain(QR);
  });

  it('a list without any method of the filtered type is empty', async () => {
    const other = [...emulator.tenant.users.values()].find((u) => u !== person)!;
    for (const type of ['EXTERNAL', 'PLATFORM_CREDENTIAL', 'QR_CODE_PIN']) {
      const result = await gateway.graphql(BY_TYPE(type), { id: other.id });
      expect(result.errors, type).toBeUndefined();
      expect((result.data!.user as { authenticationMethods: Method[] }).authenticationMethods, type).toEqual([]);
    }
  });
});

describe('@odata.type in another letter case', () => {
  it('types a method whatever the letter case of its annotation, and leaves an unknown type untyped', () => {
    expect(authMethodTypeOf({ id: 'a', '@odata.type': '#Microsoft.Graph.ExternalAuthenticationMethod' })).toBe('EXTERNAL');
    expect(authMethodTypeOf({ id: 'b', '@odata.type': '#microsoft.graph.PLATFORMCREDENTIALAUTHENTICATIONMETHOD' })).toBe('PLATFORM_CREDENTIAL');
    expect(authMethodTypeOf({ id: 'c', '@odata.type': '#microsoft.graph.qrcodepinauthenticationmethod' })).toBe('QR_CODE_PIN');
    expect(authMethodTypeOf({ id: 'd', '@odata.type': '#microsoft.graph.fido2authenticationMethod' })).toBe('FIDO2');
    expect(authMethodTypeOf({ id: 'e', '@odata.type': '#microsoft.graph.futureKindAuthenticationMethod' })).toBeNull();
    expect(authMethodTypeOf({ id: 'f' })).toBeNull();
  });
});
