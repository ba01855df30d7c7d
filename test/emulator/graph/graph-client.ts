/**
 * Test helpers: real tokens signed by the running emulator's key (the emulator verifies them like
 * any other), and a small Graph caller over real sockets.
 */
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';

export interface TokenOptions {
  roles?: string[];
  /** Delegated: space-separated scopes, and the signed-in user's id as `oid`. */
  scp?: string;
  oid?: string;
  appid?: string;
  audience?: string;
  lifetimeSeconds?: number;
  /** Issue time in seconds (for expired tokens). */
  issuedAt?: number;
}

export const ALL_APP_ROLES = [
  'User.ReadWrite.All',
  'Directory.ReadWrite.All',
  'User-PasswordProfile.ReadWrite.All',
  'User.RevokeSessions.All',
  'UserAuthenticationMethod.ReadWrite.All',
  // App-only FIDO2 deletes may need it (docs/graph-facts.md#authentication-method-permissions).
  'UserAuthMethod-Passkey.ReadWrite.All',
  'GroupMember.Read.All',
  'Device.Read.All',
];

/** Registers an app with the given Entra directory roles on its service principal (test setup). */
export function registerApp(emulator: TestEmulator, appId: string, directoryRoles: string[]): void {
  emulator.tenant.apps.set(appId, {
    appId,
    servicePrincipalId: appId.replace(/^.{8}/, 'feedf00d'),
    displayName: `test app ${appId.slice(0, 8)}`,
    secrets: [],
    certificates: [],
    graphAppRoles: ALL_APP_ROLES,
    graphDelegatedScopes: [],
    redirectUris: [],
    directoryRoles,
    gatewayApiRoles: [],
  });
}

export const USER_ADMIN_APP_ID = '22222222-3333-4444-8555-666666666666';

export async function mintToken(emulator: TestEmulator, options: TokenOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    aud: options.audience ?? emulator.origin,
    iss: emulator.context.issuer,
    tid: emulator.tenantId,
    appid: options.appid ?? '11111111-2222-4333-8444-555555555555',
    oid: options.oid ?? '99999999-8888-4777-8666-555555555555',
  };
  if (options.scp !== undefined) claims.scp = options.scp;
  else claims.roles = options.roles ?? ALL_APP_ROLES;
  return emulator.context.signer.sign(claims, options.lifetimeSeconds ?? 3600, options.issuedAt);
}

export interface GraphResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export function graphCaller(emulator: TestEmulator, defaultToken: () => string) {
  return async (
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; token?: string | null } = {},
  ): Promise<GraphResult> => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const token = options.token === undefined ? defaultToken() : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    const url = path.startsWith('http') ? path : `${emulator.origin}${path}`;
    const res = await emulator.fetch(url, {
      method,
      headers,
      ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // plain text ($count)
    }
    return { status: res.status, headers: res.headers as unknown as Headers, body, text };
  };
}

/**
 * Test-file setup: a running emulator and a Graph caller signed in as an app with every Graph
 * permission whose service principal holds `directoryRoles`.
 */
export async function startEmulatorAsApp(
  directoryRoles: string[],
  options?: Parameters<typeof startTestEmulator>[0],
): Promise<{ emulator: TestEmulator; graph: ReturnType<typeof graphCaller> }> {
  const emulator = await startTestEmulator(options);
  registerApp(emulator, USER_ADMIN_APP_ID, directoryRoles);
  const token = await mintToken(emulator, { appid: USER_ADMIN_APP_ID });
  return { emulator, graph: graphCaller(emulator, () => token) };
}

export const EVENTUAL = { consistencylevel: 'eventual' };
