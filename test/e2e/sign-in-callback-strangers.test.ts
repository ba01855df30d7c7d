import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * `/auth/callback` needs no credential: it is where Entra sends the operator's browser back. A
 * callback for no sign-in of that browser (an unknown state, or Entra's error redirect with a state
 * the gateway never issued) is a guess, counted like a wrong credential: past AUTH_FAILURE_LIMIT the
 * address gets 429, and the log has one line per counted failure. Before, a stranger wrote one log
 * line per request without bound, Entra's "description" of their own choosing included.
 * Production configuration (NODE_ENV=production, API keys), authorization-code flow.
 */
const ADMIN_KEY = 'admin-key-0123456789';
const LURE = 'AADSTS50105 Your administrator blocked you: call the helpdesk at +1 555 0100 and give them your password';

describe('/auth/callback from strangers (authorization code, production configuration)', () => {
  let emulator: TestEmulator;
  let app: App;
  const logLines: string[] = [];
  const records = () => logRecordsOf(logLines);

  /** A GET from another loopback address than the operator's, so its failures count against it alone. */
  const strangerGet = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const { port } = new URL(app.url);
      const req = request({ host: '127.0.0.1', port, path, localAddress: '127.0.0.2' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 40 });
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      GRAPH_AUTH_FLOW: 'authorization-code',
      ...apiKeyCallers({ admin: { key: ADMIN_KEY, permissions: ['Gateway.Admin'] } }),
      TOKEN_CACHE_KEY: 'sign-in callback strangers test key',
    });
    app = await startApp(config, { emulator, logger: capturingLogger(logLines, 'info') });
  }, 60_000);

  afterAll(async () => {
    await app.close();
    await emulator.close();
  });

  it('counts callbacks for no sign-in as failed authentications: 429 past the limit, one log line per counted failure', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push(await strangerGet(`/auth/callback?code=guess&state=guess-${i}`));
      statuses.push(await strangerGet(`/auth/callback?error=access_denied&state=guess-${i}&error_description=${encodeURIComponent(LURE)}`));
    }
    // The default limit: 10 failures, then every request from that address is refused unread.
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(400));
    expect(statuses.slice(10)).toEqual(Array(50).fill(429));
    const failures = records().filter((r) => r.msg === 'caller authentication failed' && r.route === '/auth/callback');
    expect(failures).toHaveLength(10);
    expect(new Set(failures.map((r) => r.reason))).toEqual(new Set(['invalid_sign_in_state']));
    expect(records().filter((r) => r.msg === 'sign-in refused by the authority' || r.msg === 'sign-in callback failed')).toEqual([]);
    expect(logLines.join('')).not.toContain('555 0100');
  });

  it("logs Entra's description when its error redirect ends a sign-in this browser started", async () => {
    const login = await fetch(`${app.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': ADMIN_KEY } });
    expect(login.status).toBe(302);
    const state = new URL(login.headers.get('location')!).searchParams.get('state')!;
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const description = 'AADSTS65004: User declined to consent to access the app.';
    const denied = await fetch(`${app.url}/auth/callback?error=access_denied&state=${state}&error_description=${encodeURIComponent(description)}`, {
      headers: { cookie },
    });
    expect(denied.status).toBe(400);
    expect(((await denied.json()) as { message: string }).message).toBe(
      "Entra ID refused the sign-in (access_denied, AADSTS65004). The gateway's log has Entra's description.",
    );
    expect(
      records()
        .filter((r) => r.msg === 'sign-in refused by the authority')
        .map((r) => r.description),
    ).toEqual([description]);
    // The same redirect in another browser (no binding cookie) is not the operator's: counted, not logged.
    expect(await strangerGet(`/auth/callback?error=access_denied&state=${state}&error_description=x`)).toBe(429);
    const elsewhere = await fetch(`${app.url}/auth/callback?error=access_denied&state=${state}&error_description=x`);
    expect(elsewhere.status).toBe(400);
    expect(records().filter((r) => r.msg === 'caller authentication failed' && r.reason === 'sign_in_not_bound')).toHaveLength(1);
    expect(records().filter((r) => r.msg === 'sign-in refused by the authority')).toHaveLength(1);
  });
});
