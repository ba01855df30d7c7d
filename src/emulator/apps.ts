import { randomInt as cryptoRandomInt } from 'node:crypto';
import { ALL_PERMISSIONS } from '../permissions.js';
import type { AppRegistration, ExposedApi, TenantModel } from './model.js';

/**
 * The tenant's app registrations and the hosted broker's registration. Deterministic from the seed
 * (a salted PRNG, independent of the directory's), so ids and secrets printed in docs or used by a
 * second process stay valid across restarts with the same seed.
 */

/** mulberry32: tiny, fast, good enough for fixture ids (not for real secrets). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(random: () => number, count: number): Buffer {
  const bytes = Buffer.alloc(count);
  for (let i = 0; i < count; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

function randomGuid(random: () => number): string {
  const b = randomBytes(random, 16);
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Entra client secrets look like `abc8Q~` followed by 34 characters of a URL-safe alphabet. */
function randomClientSecret(random: () => number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-';
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const pick = (set: string) => set[Math.floor(random() * set.length)]!;
  let secret = `${pick(letters)}${pick(letters)}${pick(letters)}${Math.floor(random() * 10)}Q~`;
  for (let i = 0; i < 34; i++) secret += pick(alphabet);
  return secret;
}

/** Delegated OIDC scopes: consented alongside Graph scopes but never put into `scp`. */
export const OIDC_SCOPES: readonly string[] = ['openid', 'profile', 'offline_access', 'email'];

const DEMO_GRAPH_APP_ROLES = [
  'User.Read.All',
  'User.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'User.RevokeSessions.All',
  'User.EnableDisableAccount.All',
  'User-PasswordProfile.ReadWrite.All',
  'UserAuthenticationMethod.ReadWrite.All',
  // App-only FIDO2 deletes: one published table lists this permission alone (docs/graph-facts.md#authentication-method-permissions).
  'UserAuthMethod-Passkey.ReadWrite.All',
  'GroupMember.Read.All',
  'Device.Read.All',
  // The administrator-target check's eligibility and scoped-assignment lookup (docs/security.md#administrators-as-targets).
  'RoleManagement.Read.Directory',
  // ... and its lookup of the groups a user is eligible for through PIM for Groups.
  'PrivilegedEligibilitySchedule.Read.AzureADGroup',
];

const DEMO_DELEGATED_SCOPES = [
  'Directory.AccessAsUser.All',
  'PrivilegedEligibilitySchedule.Read.AzureADGroup',
  'RoleManagement.Read.Directory',
  'User.Read',
  'User.ReadWrite.All',
  'User.RevokeSessions.All',
  'UserAuthenticationMethod.ReadWrite.All',
  'offline_access',
  'openid',
  'profile',
];

const HOSTED_GRAPH_APP_ROLES = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'GroupMember.Read.All', 'Device.Read.All'];

const LOOPBACK_REDIRECTS = ['http://127.0.0.1:4000/auth/callback', 'http://localhost:4000/auth/callback'];

export function seedApps(model: TenantModel, seed: number): void {
  const random = seededRandom((seed ^ 0x5eed_a995) >>> 0);
  const app = (fields: Partial<AppRegistration> & Pick<AppRegistration, 'displayName'>): AppRegistration => {
    const registration: AppRegistration = {
      appId: randomGuid(random),
      servicePrincipalId: randomGuid(random),
      secrets: [],
      certificates: [],
      graphAppRoles: [],
      graphDelegatedScopes: [],
      redirectUris: [],
      directoryRoles: [],
      gatewayApiRoles: [],
      ...fields,
    };
    model.apps.set(registration.appId, registration);
    return registration;
  };

  const demo = app({
    displayName: 'msgraph-user-gateway demo (self-deployed)',
    secrets: [randomClientSecret(random)],
    graphAppRoles: [...DEMO_GRAPH_APP_ROLES],
    graphDelegatedScopes: [...DEMO_DELEGATED_SCOPES],
    redirectUris: [...LOOPBACK_REDIRECTS],
    directoryRoles: ['User Administrator', 'Privileged Authentication Administrator'],
    // The gateway's own registration exposes its API, as on-behalf-of needs: Entra exchanges only
    // assertions issued for the app that presents them (docs/graph-facts.md#caller-tokens). A new
    // registration's manifest has requestedAccessTokenVersion null: v1.0 tokens.
    api: gatewayApi(model.wellKnown.gatewayApiAudience),
  });
  const readOnly = app({
    displayName: 'msgraph-user-gateway read-only',
    secrets: [randomClientSecret(random)],
    graphAppRoles: ['User.Read.All'],
    graphDelegatedScopes: ['User.Read', 'openid', 'profile', 'offline_access'],
    redirectUris: [...LOOPBACK_REDIRECTS],
  });
  const hosted = app({
    displayName: 'Cortex XSOAR - MS Graph User (hosted)',
    secrets: [randomClientSecret(random)],
    graphAppRoles: [...HOSTED_GRAPH_APP_ROLES],
  });
  app({
    displayName: 'Contoso directory sync API',
    // Another API of the tenant, registered for v2.0 tokens: tokens for it are valid Entra tokens
    // of this tenant that the gateway must still refuse (wrong audience).
    api: { identifierUris: [model.wellKnown.otherApiAudience], requestedAccessTokenVersion: 2, scopes: ['Sync.Run'], appRoles: ['Sync.Run'] },
  });
  const caller = app({
    displayName: 'msgraph-user-gateway caller (all roles)',
    secrets: [randomClientSecret(random)],
    gatewayApiRoles: [...ALL_PERMISSIONS],
    graphDelegatedScopes: ['openid', 'profile', 'offline_access'],
    redirectUris: [...LOOPBACK_REDIRECTS],
  });
  const readerCaller = app({
    displayName: 'msgraph-user-gateway caller (reader)',
    secrets: [randomClientSecret(random)],
    gatewayApiRoles: ['Users.Read'],
    graphDelegatedScopes: ['openid', 'profile', 'offline_access'],
    redirectUris: [...LOOPBACK_REDIRECTS],
  });

  const registrationId = randomGuid(random);
  model.brokerRegistrations.set(registrationId, {
    id: registrationId,
    token: model.tenantId,
    key: randomBytes(random, 32).toString('base64'),
    appId: hosted.appId,
  });

  Object.assign(model.wellKnown, {
    demoAppId: demo.appId,
    demoAppSecret: demo.secrets[0]!,
    readOnlyAppId: readOnly.appId,
    readOnlyAppSecret: readOnly.secrets[0]!,
    hostedAppId: hosted.appId,
    brokerRegistrationId: registrationId,
    callerAppId: caller.appId,
    callerAppSecret: caller.secrets[0]!,
    readerCallerAppId: readerCaller.appId,
    readerCallerAppSecret: readerCaller.secrets[0]!,
  });
}

/** What a test or an operator chooses for an extra app registration; the rest is generated. */
export type AppRegistrationRequest = Pick<AppRegistration, 'displayName'> &
  Partial<Pick<AppRegistration, 'graphAppRoles' | 'graphDelegatedScopes' | 'directoryRoles' | 'redirectUris' | 'gatewayApiRoles'>>;

/**
 * Adds an app registration (with its service principal and one client secret) to the tenant, with
 * exactly the Graph permissions, consented scopes and directory roles asked for: how tests model an
 * operator's app that lacks a permission. Ids and secret are random, not seeded.
 */
export function registerApp(model: TenantModel, request: AppRegistrationRequest): AppRegistration {
  const random = () => cryptoRandomInt(0, 2 ** 32) / 2 ** 32;
  const registration: AppRegistration = {
    appId: randomGuid(random),
    servicePrincipalId: randomGuid(random),
    displayName: request.displayName,
    secrets: [randomClientSecret(random)],
    certificates: [],
    graphAppRoles: [...(request.graphAppRoles ?? [])],
    graphDelegatedScopes: [...(request.graphDelegatedScopes ?? [])],
    redirectUris: [...(request.redirectUris ?? [])],
    directoryRoles: [...(request.directoryRoles ?? [])],
    gatewayApiRoles: [...(request.gatewayApiRoles ?? [])],
  };
  model.apps.set(registration.appId, registration);
  return registration;
}

/** The gateway's API: its App ID URI, and scopes and app roles named after the gateway permissions. */
function gatewayApi(identifierUri: string): ExposedApi {
  return { identifierUris: [identifierUri], requestedAccessTokenVersion: null, scopes: [...ALL_PERMISSIONS], appRoles: [...ALL_PERMISSIONS] };
}

/** The app whose API a resource identifier names: one of its App ID URIs, or its client id. */
export function apiAppFor(model: TenantModel, resource: string): AppRegistration | undefined {
  const wanted = resource.replace(/\/+$/, '').toLowerCase();
  for (const app of model.apps.values()) {
    if (!app.api) continue;
    if (app.appId.toLowerCase() === wanted) return app;
    if (app.api.identifierUris.some((uri) => uri.replace(/\/+$/, '').toLowerCase() === wanted)) return app;
  }
  return undefined;
}

/** The access token version an API's tokens have: null and 1 mean v1.0 (docs/graph-facts.md#caller-tokens). */
export function accessTokenVersionOf(api: ExposedApi): '1.0' | '2.0' {
  return api.requestedAccessTokenVersion === 2 ? '2.0' : '1.0';
}
