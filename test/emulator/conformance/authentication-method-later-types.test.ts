/**
 * docs/graph-facts.md#authentication-method-reads, "Types added after the first eight": the v1.0
 * authentication method types external (resources/externalauthenticationmethod), Platform Credential
 * (resources/platformcredentialauthenticationmethod) and QR code PIN (resources/qrcodepinauthenticationmethod).
 * `/authentication/methods` lists them typed by `@odata.type`; external and Platform Credential methods
 * also have their own collections, `externalAuthenticationMethods` (authentication-list-externalauthenticationmethods)
 * and `platformCredentialMethods` (platformcredentialauthenticationmethod-list). QR code PIN has only the
 * single `qrCodePinMethod` (qrcodepinauthenticationmethod-get), not served by the emulator. Deletes
 * (docs/graph-facts.md#deleting-authentication-methods): `DELETE .../platformCredentialMethods/{id}`
 * (platformcredentialauthenticationmethod-delete) and `DELETE .../externalAuthenticationMethods/{id}/$ref`
 * (authentication-delete-externalauthenticationmethods), 204,
 * each with `UserAuthenticationMethod.ReadWrite.All` or its type's own `.ReadWrite.All`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthMethodRecord, UserRecord } from '../../../src/emulator/model.js';
import { EXTERNAL_METHOD, PLATFORM_CREDENTIAL_METHOD, QR_CODE_PIN_METHOD_ID } from '../../support/auth-method-examples.js';
import { USER_ADMIN_APP_ID } from '../graph/graph-client.js';
import { type Conformance, graphErrorCode, mintToken, startConformance } from './support.js';

let c: Conformance;
let user: UserRecord;

const EXTERNAL = EXTERNAL_METHOD;
const PLATFORM = PLATFORM_CREDENTIAL_METHOD;
const QR: AuthMethodRecord = { id: QR_CODE_PIN_METHOD_ID, type: 'qrCodePin', data: { createdDateTime: '2026-01-27T12:00:00Z' } };

beforeAll(async () => {
  c = await startConformance(['Privileged Authentication Administrator'], { userCount: 30 });
  user = c.users.find((u) => u.userType === 'Member')!;
  user.authMethods.push(EXTERNAL, PLATFORM, QR);
});
afterAll(async () => c.close());

describe('authentication methods: the types added after the first eight (v1.0)', () => {
  it('/authentication/methods lists them with their @odata.type and documented properties', async () => {
    const res = await c.graph('GET', `/v1.0/users/${user.id}/authentication/methods`);
    expect(res.status).toBe(200);
    const byId = new Map((res.body.value as Array<Record<string, unknown>>).map((m) => [m.id, m]));
    expect(byId.get(EXTERNAL.id)).toEqual({ '@odata.type': '#microsoft.graph.externalAuthenticationMethod', id: EXTERNAL.id, ...EXTERNAL.data });
    expect(byId.get(PLATFORM.id)).toEqual({ '@odata.type': '#microsoft.graph.platformCredentialAuthenticationMethod', id: PLATFORM.id, ...PLATFORM.data });
    expect(byId.get(QR.id)).toEqual({ '@odata.type': '#microsoft.graph.qrCodePinAuthenticationMethod', id: QR.id, ...QR.data });
    const one = await c.graph('GET', `/v1.0/users/${user.id}/authentication/methods/${QR.id}`);
    expect(one.status).toBe(200);
    expect(one.body['@odata.type']).toBe('#microsoft.graph.qrCodePinAuthenticationMethod');
  });

  it('externalAuthenticationMethods and platformCredentialMethods list their own type only, and get one by id', async () => {
    for (const [collection, method] of [
      ['externalAuthenticationMethods', EXTERNAL],
      ['platformCredentialMethods', PLATFORM],
    ] as const) {
      const list = await c.graph('GET', `/v1.0/users/${user.id}/authentication/${collection}`);
      expect(list.status, collection).toBe(200);
      expect(list.body.value, collection).toEqual([{ id: method.id, ...method.data }]);
      const one = await c.graph('GET', `/v1.0/users/${user.id}/authentication/${collection}/${method.id}`);
      expect(one.status, collection).toBe(200);
      expect(one.body.id, collection).toBe(method.id);
    }
  });

  it('a user without them has empty collections', async () => {
    const other = c.users.find((u) => u.userType === 'Member' && u !== user)!;
    for (const collection of ['externalAuthenticationMethods', 'platformCredentialMethods']) {
      const list = await c.graph('GET', `/v1.0/users/${other.id}/authentication/${collection}`);
      expect(list.status, collection).toBe(200);
      expect(list.body.value, collection).toEqual([]);
    }
  });
});

describe('authentication methods: deleting the types added later', () => {
  const app = (roles: string[]) => mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles });
  const target = () => c.users.find((u) => u.userType === 'Member' && u._directoryRoles.length === 0 && u !== user)!;
  const give = (u: UserRecord, type: 'external' | 'platformCredential') => {
    const id = crypto.randomUUID();
    u.authMethods.push({ id, type, data: {} });
    return id;
  };

  it("a Platform Credential is deleted at platformCredentialMethods/{id} with its type's permission (204); another type's permission is 403", async () => {
    const u = target();
    const id = give(u, 'platformCredential');
    const path = `/v1.0/users/${u.id}/authentication/platformCredentialMethods/${id}`;
    const other = await c.graph('DELETE', path, { token: await app(['UserAuthMethod-Passkey.ReadWrite.All']) });
    expect(other.status).toBe(403);
    expect(graphErrorCode(other)).toBe('Authorization_RequestDenied');
    expect((await c.graph('DELETE', path, { token: await app(['UserAuthMethod-PlatformCred.ReadWrite.All']) })).status).toBe(204);
    expect(u.authMethods.some((m) => m.id === id)).toBe(false);
  });

  it('an external method is deleted at its documented path, .../{id}/$ref (204); .../{id} alone is not served (405, the stricter reading)', async () => {
    const u = target();
    const id = give(u, 'external');
    const token = await app(['UserAuthMethod-External.ReadWrite.All']);
    expect((await c.graph('DELETE', `/v1.0/users/${u.id}/authentication/externalAuthenticationMethods/${id}`, { token })).status).toBe(405);
    expect(u.authMethods.some((m) => m.id === id)).toBe(true);
    expect((await c.graph('DELETE', `/v1.0/users/${u.id}/authentication/externalAuthenticationMethods/${id}/$ref`, { token })).status).toBe(204);
    expect(u.authMethods.some((m) => m.id === id)).toBe(false);
  });
});
