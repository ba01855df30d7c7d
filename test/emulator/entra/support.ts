import { newUserRecord } from '../../../src/emulator/user-record.js';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { expect } from 'vitest';
import type { UserRecord } from '../../../src/emulator/model.js';
import type { TestEmulator } from '../../support/emulator.js';

/** Shared helpers for the identity tests: token posts, PKCE, msal's network seam, a fallback user. */

export interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

export async function postToken(emulator: TestEmulator, form: Record<string, string>, tenant = emulator.tenantId): Promise<TokenAnswer> {
  const res = await emulator.fetch(`/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text };
}

/**
 * Verifies a token as a resource would: with the issuer and keys of the tenant's OpenID metadata
 * of that token version (v1.0: `/{tenant}/.well-known/...`, v2.0: `/{tenant}/v2.0/.well-known/...`).
 */
export async function verifyWithJwks(emulator: TestEmulator, token: string, audience: string, version: '1.0' | '2.0' = '1.0'): Promise<JWTPayload> {
  const metadataPath =
    version === '1.0' ? `/${emulator.tenantId}/.well-known/openid-configuration` : `/${emulator.tenantId}/v2.0/.well-known/openid-configuration`;
  const metadata = (await (await emulator.fetch(metadataPath)).json()) as { issuer: string; jwks_uri: string };
  const jwks = (await (await emulator.fetch(metadata.jwks_uri)).json()) as Parameters<typeof createLocalJWKSet>[0];
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: metadata.issuer, audience });
  expect(payload.ver).toBe(version);
  return payload;
}

/** Sets `requestedAccessTokenVersion` in an app's manifest through the emulator's admin route. */
export async function setApiTokenVersion(emulator: TestEmulator, appId: string, version: 1 | 2 | null): Promise<void> {
  const res = await emulator.fetch(`/_emulator/apps/${appId}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api: { requestedAccessTokenVersion: version } }),
  });
  if (!res.ok) throw new Error(`PATCH /_emulator/apps/${appId} answered ${res.status}: ${await res.text()}`);
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** msal's default fetch does not trust the emulator CA; this INetworkModule does. */
export function msalNetworkClient(emulator: TestEmulator): INetworkModule {
  const send = async <T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
    const init: Parameters<TestEmulator['fetch']>[1] = { method, headers: options?.headers ?? {} };
    if (method === 'POST' && options?.body !== undefined) init.body = options.body;
    const res = await emulator.fetch(url, init);
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { status: res.status, headers, body: (await res.json()) as T };
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}

export function demoAppCredential(emulator: TestEmulator): { privateKeyPem: string; certificatePem: string } {
  const pem = readFileSync(emulator.demoAppCertificatePath, 'utf8');
  const privateKeyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)?.[0];
  const certificatePem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!privateKeyPem || !certificatePem) throw new Error('demo app credential PEM lacks a key or certificate');
  return { privateKeyPem, certificatePem };
}

/**
 * A signed-in user for the delegated flows. The directory seed provides the admin; this adds a
 * plain member (so tests can disable or revoke it without touching the admin) directly into the
 * tenant, and creates the admin as well if the seed provided none.
 */
export function addTestUser(emulator: TestEmulator, name: string, password: string): UserRecord {
  const tenant = emulator.tenant;
  const id = createHash('sha256').update(`${name}:${tenant.tenantId}`).digest('hex');
  const guid = `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-8${id.slice(17, 20)}-${id.slice(20, 32)}`;
  const user: UserRecord = {
    ...newUserRecord({
      id: guid,
      displayName: `Identity Test ${name}`,
      userPrincipalName: `${name}@${tenant.domain}`,
      createdMs: emulator.context.now() - 86_400_000,
      password,
    }),
    givenName: 'Identity',
    surname: name,
    mail: `${name}@${tenant.domain}`,
  };

  tenant.users.set(user.id, user);
  return user;
}

/** The admin the sandbox signs in as; created here when the directory seed has none. */
export function ensureAdmin(emulator: TestEmulator): UserRecord {
  const tenant = emulator.tenant;
  const seeded = tenant.users.get(tenant.wellKnown.adminUserId);
  if (seeded) return seeded;
  const admin = addTestUser(emulator, 'sandbox-admin', 'Adm1n-Passw0rd!');
  admin._directoryRoles = ['Global Administrator'];
  tenant.wellKnown.adminUserId = admin.id;
  tenant.wellKnown.adminPassword = admin._password;
  return admin;
}

export function decodeClientInfo(value: unknown): { uid: string; utid: string } {
  return JSON.parse(Buffer.from(String(value), 'base64url').toString('utf8')) as { uid: string; utid: string };
}

/** Graph's delegated scope with a refresh token, as the gateway asks for it. */
export const GRAPH_DELEGATED_SCOPE = 'https://graph.microsoft.com/.default openid profile offline_access';

/** The demo app's client credentials as token-request form fields. */
export function demoClient(emulator: TestEmulator): { client_id: string; client_secret: string } {
  const { wellKnown } = emulator.tenant;
  return { client_id: wellKnown.demoAppId, client_secret: wellKnown.demoAppSecret };
}

/** A resource-owner password grant for `user` (the emulator's way to sign a user in without a browser). */
export function passwordGrant(
  emulator: TestEmulator,
  user: { userPrincipalName: string },
  password: string,
  scope = GRAPH_DELEGATED_SCOPE,
  client = demoClient(emulator),
): Promise<TokenAnswer> {
  return postToken(emulator, { grant_type: 'password', ...client, username: user.userPrincipalName, password, scope });
}
