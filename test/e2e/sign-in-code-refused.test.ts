import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { AUTHORIZATION_CODE_LIFETIME_MS } from '../../src/emulator/entra/state.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';

/**
 * A sign-in whose authorization code Entra refuses (already redeemed, expired, not valid) fails
 * at /auth/callback, and that is all it does: the identity signed in before keeps serving. The
 * page must say "start again at /auth/login", not "run npm run auth:reset", which would delete
 * the working stored identity over a replayed link or a slow browser. And the token failure log
 * lines keep the gateway's error code: the logger redacts every field named `code`.
 */
describe('a refused authorization code at /auth/callback', () => {
  let emulator: TestEmulator;
  let app: App;
  let clockOffsetMs = 0;
  const logLines: string[] = [];
  let firstCode = '';

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 50, now: () => Date.now() + clockOffsetMs });
    app = await startApp(loadSandboxConfig(emulator, { GRAPH_AUTH_FLOW: 'authorization-code' }), { emulator, logger: capturingLogger(logLines, 'debug') });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await emulator?.close();
  });

  /** /auth/login as the loopback operator, then the tenant's consent: the callback URL (with a fresh code) and the binding cookie. */
  async function startSignIn(): Promise<{ callback: URL; cookie: string }> {
    const login = await fetch(`${app.url}/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const consent = await emulator.fetch(login.headers.get('location')!, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    return { callback: new URL(consent.headers.get('location')!), cookie: login.headers.get('set-cookie')!.split(';')[0]! };
  }

  async function me(): Promise<{ id?: string; error?: string }> {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    const body = (await res.json()) as { data?: { me: { id: string } | null }; errors?: Array<{ message: string }> };
    return { id: body.data?.me?.id, error: body.errors?.[0]?.message };
  }

  it('logs a failed token acquisition with its error code (errorCode), not a redacted `code`', async () => {
    // Nobody has signed in yet: the acquisition fails and says so in a warn line.
    expect((await me()).error).toMatch(/auth\/login/);
    const failures = logRecordsOf(logLines).filter((r) => r.level === 'warn' && /^Graph token acquisition \(authorization-code\)/.test(String(r.msg)));
    expect(failures.length).toBeGreaterThan(0);
    for (const line of failures) {
      expect(line).toMatchObject({ flow: 'authorization-code', errorCode: 'UNAUTHENTICATED' });
      expect(line).not.toHaveProperty('code');
    }
  });

  it('signs in once; a replayed, an expired and a made-up code each fail with "start again at /auth/login", and the signed-in identity keeps serving', async () => {
    const first = await startSignIn();
    firstCode = first.callback.searchParams.get('code')!;
    const done = await fetch(first.callback, { headers: { cookie: first.cookie } });
    expect(done.status).toBe(200);
    const adminId = emulator.tenant.wellKnown.adminUserId;
    expect((await me()).id).toBe(adminId);

    const attempts: Array<{ what: string; aadsts: string; callback: () => Promise<{ url: URL; cookie: string }> }> = [
      {
        // The first sign-in's code, spent, under a new sign-in's state and cookie (a replayed link or callback URL).
        what: 'replayed',
        aadsts: 'AADSTS54005',
        callback: async () => {
          const next = await startSignIn();
          next.callback.searchParams.set('code', firstCode);
          return { url: next.callback, cookie: next.cookie };
        },
      },
      {
        // The browser came back after the code's lifetime (Entra's clock).
        what: 'expired',
        aadsts: 'AADSTS70008',
        callback: async () => {
          const next = await startSignIn();
          clockOffsetMs = AUTHORIZATION_CODE_LIFETIME_MS + 60_000;
          return { url: next.callback, cookie: next.cookie };
        },
      },
      {
        what: 'made-up',
        aadsts: 'AADSTS70000',
        callback: async () => {
          const next = await startSignIn();
          next.callback.searchParams.set('code', 'not-a-code-entra-issued');
          return { url: next.callback, cookie: next.cookie };
        },
      },
    ];
    for (const attempt of attempts) {
      const { url, cookie } = await attempt.callback();
      const res = await fetch(url, { headers: { cookie, accept: 'application/json' } });
      clockOffsetMs = 0;
      const body = (await res.json()) as { ok: boolean; message: string };
      expect(res.status, attempt.what).toBe(502);
      expect(body.ok).toBe(false);
      expect(body.message, attempt.what).toContain(attempt.aadsts);
      expect(body.message, attempt.what).toMatch(/the stored identity is unchanged\. Start again at \/auth\/login\.$/);
      expect(body.message, attempt.what).not.toMatch(/auth:reset/);
      // The identity signed in before is still the gateway's: nothing was reset or replaced.
      expect((await me()).id, attempt.what).toBe(adminId);
    }
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);

    // The log says the same, without the codes.
    const refused = logRecordsOf(logLines).filter((r) => r.msg === 'sign-in callback failed');
    expect(refused).toHaveLength(3);
    for (const line of refused) {
      expect(line.reason).toMatch(/Start again at \/auth\/login/);
      expect(line.reason).not.toMatch(/auth:reset/);
    }
    const text = logLines.join('');
    expect(text).not.toContain(firstCode);
    expect(text).not.toContain('not-a-code-entra-issued');
  });
});
