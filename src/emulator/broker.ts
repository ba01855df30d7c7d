import { createDecipheriv, randomUUID } from 'node:crypto';
import type { EmulatorContext } from './context.js';
import { graphAppOnlyTarget, signAppOnlyAccessToken } from './entra/tokens.js';
import { identityState, opaqueToken } from './entra/state.js';
import { json, readJsonBody, type EmuRequest, type EmuResponse } from './http.js';

/**
 * The hosted OAuth broker ("oproxy") the XSOAR integration talks to in hosted mode:
 * `POST /broker/obtain-token` with `{app_name, registration_id, encrypted_token, scope, resource}`.
 * `encrypted_token` = base64(12-byte nonce ‖ AES-256-GCM(ciphertext ‖ 16-byte tag)) of
 * `"<epoch seconds>:<content>"` under the registration's key; content is the registration token
 * (the tenant id) or a refresh token this broker handed out. The answer is an app-only Graph token
 * of the hosted app in the registration's tenant.
 */
const ROUTE = 'POST /broker/obtain-token';
const MAX_CLOCK_SKEW_SECONDS = 5 * 60;
export const BROKER_TOKEN_EXPIRES_IN = 3595;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function problem(status: number, title: string, detail: string): EmuResponse {
  return { ...json(status, { title, detail, status }), route: ROUTE };
}

/** Decrypts `encrypted_token`; undefined when the key does not fit (GCM authentication fails). */
export function decryptBrokerToken(encryptedToken: string, keyBase64: string): string | undefined {
  const blob = Buffer.from(encryptedToken, 'base64');
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== 32 || blob.length < NONCE_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
    return Buffer.concat([decipher.update(blob.subarray(NONCE_BYTES, blob.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

export async function handleBroker(ctx: EmulatorContext, req: EmuRequest): Promise<EmuResponse | undefined> {
  if (req.url.pathname.replace(/\/+$/, '') !== '/broker/obtain-token') return undefined;
  if (req.method !== 'POST') return problem(405, 'Method not allowed', 'obtain-token only accepts POST with a JSON body.');
  let body: unknown;
  try {
    body = readJsonBody(req);
  } catch {
    return problem(400, 'Malformed request', 'The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null) return problem(400, 'Malformed request', 'The request body must be a JSON object.');
  const { registration_id: registrationId, encrypted_token: encryptedToken } = body as Record<string, unknown>;
  if (typeof registrationId !== 'string' || registrationId.length === 0) return problem(400, 'Malformed request', "'registration_id' is required.");
  if (typeof encryptedToken !== 'string' || encryptedToken.length === 0) return problem(400, 'Malformed request', "'encrypted_token' is required.");

  const registration = ctx.tenant.brokerRegistrations.get(registrationId);
  if (!registration) {
    return problem(
      404,
      'Unknown registration',
      `No registration with id '${registrationId}' exists. Run the consent flow again to get a new ID, token and key.`,
    );
  }
  const plaintext = decryptBrokerToken(encryptedToken, registration.key);
  if (plaintext === undefined) {
    return problem(401, 'Decryption failed', 'The encrypted token could not be decrypted with the key of this registration (wrong key, or a corrupted token).');
  }
  const colon = plaintext.indexOf(':');
  const timestamp = colon > 0 ? Number(plaintext.slice(0, colon)) : Number.NaN;
  if (!Number.isInteger(timestamp)) {
    return problem(400, 'Malformed token', "The decrypted token must be '<epoch seconds>:<content>'.");
  }
  const skew = Math.floor(ctx.now() / 1000) - timestamp;
  if (skew > MAX_CLOCK_SKEW_SECONDS)
    return problem(
      401,
      'Stale token',
      `The token's timestamp is ${skew} s old; at most ${MAX_CLOCK_SKEW_SECONDS} s are accepted. Check the clock of the calling host.`,
    );
  if (-skew > MAX_CLOCK_SKEW_SECONDS)
    return problem(
      401,
      'Token from the future',
      `The token's timestamp is ${-skew} s ahead of the broker's clock; at most ${MAX_CLOCK_SKEW_SECONDS} s are accepted. Check the clock of the calling host.`,
    );

  const content = plaintext.slice(colon + 1);
  const state = identityState(ctx.tenant);
  if (content !== registration.token) {
    const refresh = state.brokerRefreshTokens.get(content);
    if (!refresh || refresh.registrationId !== registration.id || refresh.spent) {
      return problem(401, 'Invalid grant', 'The decrypted content is neither the registration token nor a valid refresh token of this registration.');
    }
    refresh.spent = true;
  }
  if (registration.token !== ctx.tenant.tenantId) {
    return problem(403, 'Tenant mismatch', 'The registration belongs to a tenant this broker does not serve.');
  }
  const app = ctx.tenant.apps.get(registration.appId);
  if (!app) return problem(500, 'Broker misconfigured', 'The hosted app of this registration no longer exists.');

  const accessToken = await signAppOnlyAccessToken(ctx, app, graphAppOnlyTarget('https://graph.microsoft.com'), app.graphAppRoles, '1');
  const refreshToken = opaqueToken('broker.');
  state.brokerRefreshTokens.set(refreshToken, { registrationId: registration.id, issuedAtMs: ctx.now(), spent: false });
  return {
    ...json(
      200,
      { access_token: accessToken, expires_in: BROKER_TOKEN_EXPIRES_IN, refresh_token: refreshToken },
      { 'function-execution-id': randomUUID().replace(/-/g, '').slice(0, 12) },
    ),
    route: ROUTE,
  };
}
