import { randomBytes } from 'node:crypto';
import type { TenantModel } from '../model.js';
import type { RequestedScopes } from './scopes.js';

/**
 * Server-side grant state: authorization codes, refresh tokens and broker refresh tokens. Keyed by
 * the tenant object, so `POST /_emulator/reset` (which replaces the tenant) forgets every grant.
 * Tokens are opaque random strings; redeemed ones stay in the map, marked spent, so a replay is
 * told apart from garbage.
 */
export interface AuthorizationCodeGrant {
  appId: string;
  userId: string;
  redirectUri: string;
  scopes: RequestedScopes;
  codeChallenge: string | undefined;
  nonce: string | undefined;
  issuedAtMs: number;
  redeemed: boolean;
}

export interface RefreshTokenGrant {
  appId: string;
  userId: string;
  scopes: RequestedScopes;
  issuedAtMs: number;
  spent: boolean;
}

export interface BrokerRefreshGrant {
  registrationId: string;
  issuedAtMs: number;
  spent: boolean;
}

export interface IdentityState {
  codes: Map<string, AuthorizationCodeGrant>;
  refreshTokens: Map<string, RefreshTokenGrant>;
  brokerRefreshTokens: Map<string, BrokerRefreshGrant>;
}

const states = new WeakMap<TenantModel, IdentityState>();

export function identityState(tenant: TenantModel): IdentityState {
  let state = states.get(tenant);
  if (!state) {
    state = { codes: new Map(), refreshTokens: new Map(), brokerRefreshTokens: new Map() };
    states.set(tenant, state);
  }
  return state;
}

/** An opaque credential with a recognisable prefix (AAD codes start `0.A`, refresh tokens `1.A`). */
export function opaqueToken(prefix: string): string {
  return `${prefix}${randomBytes(48).toString('base64url')}`;
}

export const AUTHORIZATION_CODE_LIFETIME_MS = 10 * 60 * 1000;
export const REFRESH_TOKEN_LIFETIME_MS = 90 * 24 * 60 * 60 * 1000;
