import type { AuthMethodRecord } from '../../src/emulator/model.js';

/**
 * Methods of the authentication method types Graph v1.0 added after the first eight, shaped as the v1.0
 * pages' examples show them (authentication-list-externalauthenticationmethods,
 * platformcredentialauthenticationmethod-list, qrcodepinauthenticationmethod-get), for a test to add
 * to an emulator user (docs/graph-facts.md#authentication-method-reads).
 */
export const EXTERNAL_METHOD: AuthMethodRecord = {
  id: '78381c69-811f-51f6-66ec-c2c2aa0e2b46',
  type: 'external',
  data: { createdDateTime: '2025-04-02T16:01:39Z', configurationId: '26310fee-860b-4eab-8749-ab730dcf335e', displayName: 'Adatum' },
};

export const PLATFORM_CREDENTIAL_METHOD: AuthMethodRecord = {
  id: 'R18B3t8Ogh9XIOGmPt81d6p_KXJs1YTxfGgGqeVFJSM1',
  type: 'platformCredential',
  data: { displayName: 'My Macbook Pro', createdDateTime: '2023-09-02T04:16:49Z', keyStrength: 'normal', platform: 'macOS' },
};

export const QR_CODE_PIN_METHOD_ID = '6c2f8b36-b6f0-46fa-9548-1eba48bebbde';
