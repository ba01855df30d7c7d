import { createCipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { verifyWithJwks } from './support.js';

let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 50 });
});
afterAll(async () => {
  await emulator?.close();
});

/** The XSOAR client's encryption: base64(nonce ‖ AES-256-GCM(ciphertext ‖ tag)) of `"<epoch>:<content>"`. */
function encrypt(keyBase64: string, content: string, epochSeconds = Math.floor(Date.now() / 1000)): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyBase64, 'base64'), nonce);
  const ciphertext = Buffer.concat([cipher.update(`${epochSeconds}:${content}`, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString('base64');
}

function registration() {
  const { wellKnown } = emulator.tenant;
  return emulator.tenant.brokerRegistrations.get(wellKnown.brokerRegistrationId)!;
}

async function obtain(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown>; headers: Headers; text: string }> {
  const res = await emulator.fetch(emulator.brokerUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Content-Version': '1.0', 'X-Content-Name': 'ms-graph-user' },
    body: JSON.stringify({ app_name: 'ms-graph-user', scope: null, resource: '', ...body }),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, headers: res.headers, text };
}

describe('hosted OAuth broker', () => {
  it('exchanges the encrypted registration token for an app-only Graph token of the hosted app', async () => {
    await emulator.resetStats();
    const reg = registration();
    const answer = await obtain({ registration_id: reg.id, encrypted_token: encrypt(reg.key, reg.token) });
    expect(answer.status).toBe(200);
    expect(answer.body.expires_in).toBe(3595);
    expect(typeof answer.body.refresh_token).toBe('string');
    expect(answer.headers.get('function-execution-id')).toBeTruthy();
    const claims = await verifyWithJwks(emulator, String(answer.body.access_token), 'https://graph.microsoft.com');
    expect(claims).toMatchObject({ tid: emulator.tenantId, appid: emulator.tenant.wellKnown.hostedAppId, idtyp: 'app' });
    expect(claims.roles).toEqual(['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'GroupMember.Read.All', 'Device.Read.All']);
    expect(claims.roles).not.toContain('User.RevokeSessions.All');
    const stats = await emulator.stats();
    expect(stats.byRoute['POST /broker/obtain-token']).toBe(1);
    expect(stats.tokenRequests).toBe(0);
  });

  it('accepts the refresh token it handed out, once', async () => {
    const reg = registration();
    const first = await obtain({ registration_id: reg.id, encrypted_token: encrypt(reg.key, reg.token) });
    const refreshed = await obtain({ registration_id: reg.id, encrypted_token: encrypt(reg.key, String(first.body.refresh_token)) });
    expect(refreshed.status).toBe(200);
    const replay = await obtain({ registration_id: reg.id, encrypted_token: encrypt(reg.key, String(first.body.refresh_token)) });
    expect(replay.status).toBe(401);
    expect(replay.body.title).toBe('Invalid grant');
  });

  it('says which check failed: wrong key, unknown registration, stale or future timestamp', async () => {
    const reg = registration();
    const wrongKey = await obtain({ registration_id: reg.id, encrypted_token: encrypt(randomBytes(32).toString('base64'), reg.token) });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body).toMatchObject({ title: 'Decryption failed' });
    expect(String(wrongKey.body.detail)).toMatch(/wrong key/);

    const unknown = await obtain({ registration_id: 'not-a-registration', encrypted_token: encrypt(reg.key, reg.token) });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ title: 'Unknown registration' });

    const stale = await obtain({ registration_id: reg.id, encrypted_token: encrypt(reg.key, reg.token, Math.floor(Date.now() / 1000) - 6 * 60) });
    expect(stale.status).toBe(401);
    expect(stale.body).toMatchObject({ title: 'Stale token' });

    const future = await obtain({ registration_id: reg.id, encrypted_token: encrypt(reg.key, reg.token, Math.floor(Date.now() / 1000) + 6 * 60) });
    expect(future.status).toBe(401);
    expect(future.body).toMatchObject({ title: 'Token from the future' });

    const withinSkew = await obtain({ registration_id: reg.id, encrypted_token: encrypt(reg.key, reg.token, Math.floor(Date.now() / 1000) - 4 * 60) });
    expect(withinSkew.status).toBe(200);

    const wrongContent = await obtain({ registration_id: reg.id, encrypted_token: encrypt(reg.key, 'some-other-tenant') });
    expect(wrongContent.status).toBe(401);

    for (const answer of [wrongKey, unknown, stale, future, wrongContent]) expect(answer.text).not.toContain(reg.key);
  });

  it('refuses malformed requests with a problem body', async () => {
    const missing = await obtain({ registration_id: registration().id });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ title: 'Malformed request' });
    const res = await emulator.fetch(emulator.brokerUrl, { method: 'POST', body: 'not json' });
    expect(res.status).toBe(400);
  });
});
