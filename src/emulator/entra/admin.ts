import type { EmulatorContext, IdentitySettings } from '../context.js';
import { json, type EmuRequest, type EmuResponse } from '../http.js';
import { resetTokenThrottle } from './token-throttle.js';

/**
 * Admin routes for the Entra side (part of the `/_emulator/*` contract, not counted in
 * statistics): `GET|POST /_emulator/identity` reads or changes the identity switches, and
 * `PATCH /_emulator/apps/{appId}` changes an app registration's manifest the way
 * `PATCH /applications/{id}` does in Graph (`{"api": {"requestedAccessTokenVersion": 2}}`).
 * `POST /_emulator/reset` restores both. Setting `tokenRequestsPerMinute` (Entra's throttling of
 * token requests, src/emulator/entra/token-throttle.ts) starts its counts afresh.
 */
export function handleEntraAdmin(ctx: EmulatorContext, req: EmuRequest): EmuResponse | undefined {
  const path = req.url.pathname.replace(/\/+$/, '');
  if (path === '/_emulator/identity' && req.method === 'GET') return json(200, ctx.identity);
  if (path === '/_emulator/identity' && req.method === 'POST') {
    const body = parseBody(req);
    if (typeof body === 'string') return json(400, { error: body });
    const settings = validateIdentitySettings(body);
    if (typeof settings === 'string') return json(400, { error: settings });
    ctx.identity = { ...ctx.identity, ...settings };
    if (settings.tokenRequestsPerMinute !== undefined) resetTokenThrottle(ctx.tenant);
    return json(200, ctx.identity);
  }
  const appMatch = /^\/_emulator\/apps\/([^/]+)$/.exec(path);
  if (appMatch && req.method === 'PATCH') {
    const app = ctx.tenant.apps.get(decodeURIComponent(appMatch[1]!).toLowerCase());
    if (!app) return json(404, { error: `no app registration with client id ${appMatch[1]}` });
    const body = parseBody(req);
    if (typeof body === 'string') return json(400, { error: body });
    const api = (body as { api?: unknown }).api;
    const keys = Object.keys(body);
    if (keys.some((k) => k !== 'api') || typeof api !== 'object' || api === null || Object.keys(api).some((k) => k !== 'requestedAccessTokenVersion')) {
      return json(400, { error: 'body must be {"api": {"requestedAccessTokenVersion": 1 | 2 | null}}' });
    }
    const version = (api as { requestedAccessTokenVersion?: unknown }).requestedAccessTokenVersion;
    if (version !== 1 && version !== 2 && version !== null) return json(400, { error: 'requestedAccessTokenVersion must be 1, 2 or null' });
    if (!app.api) return json(400, { error: `${app.displayName} exposes no API (no App ID URI)` });
    app.api.requestedAccessTokenVersion = version;
    return json(200, { appId: app.appId, api: app.api });
  }
  return undefined;
}

function parseBody(req: EmuRequest): Record<string, unknown> | string {
  try {
    const body: unknown = req.body.length ? JSON.parse(req.body.toString('utf8')) : {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
    return body as Record<string, unknown>;
  } catch {
    return 'body must be JSON';
  }
}

export function validateIdentitySettings(body: Record<string, unknown>): Partial<IdentitySettings> | string {
  const settings: Partial<IdentitySettings> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'singleUseRefreshTokens') {
      if (typeof value !== 'boolean') return `${key} must be true or false`;
      settings.singleUseRefreshTokens = value;
    } else if (key === 'tokenRequestsPerMinute') {
      if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 1))
        return `${key} must be a whole number from 1, or null (never throttle)`;
      settings.tokenRequestsPerMinute = value;
    } else {
      return `unknown identity setting ${JSON.stringify(key)} (known: singleUseRefreshTokens, tokenRequestsPerMinute)`;
    }
  }
  return settings;
}
