import { describe, expect, it } from 'vitest';
import { spawnDoctor } from './support.js';

/**
 * An http REDIRECT_URI off localhost, which Entra refuses at the sign-in (AADSTS500117,
 * docs/identity.md#the-callback-url): before, the doctor and the start-up accepted it and the
 * operator learnt it at the first sign-in. Now the doctor stops as the gateway does, exit 2, naming
 * the variable and echoing no secret.
 */
describe('npm run doctor with an http REDIRECT_URI off localhost', () => {
  it('exits 2 with a message naming REDIRECT_URI and what to set, and no secret', async () => {
    const secret = 'doctor-redirect-secret-1f2e3d4c5b6a';
    const result = await spawnDoctor({
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      NODE_ENV: 'production',
      SANDBOX: 'false',
      AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      AZURE_CLIENT_ID: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f',
      AZURE_CLIENT_SECRET: secret,
      GRAPH_AUTH_FLOW: 'authorization-code',
      REDIRECT_URI: 'http://gateway.contoso.com/auth/callback',
      TOKEN_CACHE_KEY: Buffer.alloc(32, 6).toString('base64'),
      CACHE_URL: 'memory',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/REDIRECT_URI="http:\/\/gateway\.contoso\.com\/auth\/callback" is http on a host other than localhost/);
    expect(result.stderr).toContain('https://gateway.contoso.com/auth/callback');
    expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
  }, 120_000);
});
