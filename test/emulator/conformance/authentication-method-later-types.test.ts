/**
 * docs/graph-facts.md#authentication-method-reads, "Types added after the first eight": the v1.0
 * authentication method types external (resources/externalauthenticationmethod), Platform Credential
 * (resources/platformcredentialauthenticationmethod) and QR code PIN (resources/qrcodepinauthenticationmethod).
 * `/authentication/methods` lists them typed by `@odata.type`; external and Platform Credential methods
 * also have their own collections, `externalAuthenticationMethods` (authentication-list-externalauthenticationmethods)
 * and `platformCredentialMethods` (platformcredentialauthenticationmethod-list). QR code PIN has only the
 * single `qrCodePinMethod` (qrcodepinauthenticationmethod-get), not served by the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthMethodRecord, UserRecord } from '../../../src/emulator/model.js';
import { type Conformance, startConformance } from './support.js';

let c: Conformance;
let user: UserRecord;

const EXTERNAL: AuthMethodRecord = {
  id: '78381c69-811f-51f6-66ec-c2c2aa0e2b46',
  type: 'external',
  data: { createdDateTime: '2025-04-02T16:01:39Z', configurationId: '26310fee-860b-4eab-8749-ab730dcf335e', displayName: 'Adatum' },
};
const PLATFORM: AuthMethodRecord = {
  id: 'R18B3t8Ogh9XIOGmPt81d6p_KXJs1YTxfGgGqeVFJSM1',
  type: 'platformCredential',
  data: { displayName: 'My Macbook Pro', createdDateTime: '2023-09-02T04:16:49Z', keyStrength: 'normal', platform: 'macOS' },
};
const QR: AuthMethodRecord = { id: '6c2f8b36-b6f0-46fa-9548-1eba48bebbde', type: 'qrCodePin', data: { createdDateTime: '2026-01-27T12:00:00Z' } };

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
