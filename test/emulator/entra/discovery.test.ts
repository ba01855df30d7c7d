import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { postToken, verifyWithJwks } from './support.js';

let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 50 });
});
afterAll(async () => {
  await emulator?.close();
});

describe('Entra discovery', () => {
  it('publishes the OpenID configuration with the tenant issuer and token endpoint', async () => {
    const res = await emulator.fetch(`/${emulator.tenantId}/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(`${emulator.origin}/${emulator.tenantId}/v2.0`);
    expect(doc.token_endpoint).toBe(`${emulator.origin}/${emulator.tenantId}/oauth2/v2.0/token`);
    expect(doc.authorization_endpoint).toBe(`${emulator.origin}/${emulator.tenantId}/oauth2/v2.0/authorize`);
    expect(doc.jwks_uri).toBe(`${emulator.origin}/${emulator.tenantId}/discovery/v2.0/keys`);
  });

  it('answers for the tenant domain too, and keeps the {tenantid} placeholder for organizations', async () => {
    const byDomain = (await (await emulator.fetch(`/${emulator.tenant.domain}/v2.0/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(byDomain.issuer).toBe(`${emulator.origin}/${emulator.tenantId}/v2.0`);
    const multi = (await (await emulator.fetch('/organizations/v2.0/.well-known/openid-configuration')).json()) as Record<string, unknown>;
    expect(multi.issuer).toBe(`${emulator.origin}/{tenantid}/v2.0`);
    expect(multi.token_endpoint).toBe(`${emulator.origin}/organizations/oauth2/v2.0/token`);
  });

  it('refuses an unknown tenant with AADSTS90002', async () => {
    const res = await emulator.fetch('/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; error_codes: number[] };
    expect(body.error_codes).toEqual([90002]);
  });

  it('answers instance discovery with the emulator host as its own alias', async () => {
    const authorizationEndpoint = `${emulator.origin}/${emulator.tenantId}/oauth2/v2.0/authorize`;
    const res = await emulator.fetch(`/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(authorizationEndpoint)}`);
    const body = (await res.json()) as { tenant_discovery_endpoint: string; metadata: Array<{ preferred_network: string; aliases: string[] }> };
    const host = new URL(emulator.origin).host;
    expect(body.tenant_discovery_endpoint).toBe(`${emulator.origin}/${emulator.tenantId}/v2.0/.well-known/openid-configuration`);
    expect(body.metadata[0]).toMatchObject({ preferred_network: host, aliases: [host] });
  });

  it('signs tokens that verify against the published JWKS', async () => {
    const { wellKnown } = emulator.tenant;
    const answer = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: wellKnown.demoAppId,
      client_secret: wellKnown.demoAppSecret,
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(answer.status).toBe(200);
    const claims = await verifyWithJwks(emulator, String(answer.body.access_token), 'https://graph.microsoft.com');
    expect(claims).toMatchObject({ tid: emulator.tenantId, appid: wellKnown.demoAppId, ver: '1.0' });
    // Graph's own check, as the Graph routes run it.
    const ctx = emulator.context;
    await expect(ctx.signer.verify(String(answer.body.access_token), { issuer: ctx.issuer, audience: ctx.graphAudiences })).resolves.toBeTruthy();
    expect(ctx.issuer).toBe(`https://sts.windows.net/${emulator.tenantId}/`);
  });

  it('counts token requests in the emulator statistics', async () => {
    await emulator.resetStats();
    await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.tenant.wellKnown.demoAppId,
      client_secret: 'nope',
      scope: 'https://graph.microsoft.com/.default',
    });
    const stats = await emulator.stats();
    expect(stats.tokenRequests).toBe(1);
    expect(stats.byRoute['POST /{tenant}/oauth2/v2.0/token']).toBe(1);
  });

  it('seeds the same apps for the same seed', async () => {
    const { createTenant } = await import('../../../src/emulator/tenant.js');
    const a = createTenant({ seed: 7, userCount: 10 });
    const b = createTenant({ seed: 7, userCount: 10 });
    const c = createTenant({ seed: 8, userCount: 10 });
    expect(a.wellKnown.demoAppId).toBe(b.wellKnown.demoAppId);
    expect(a.wellKnown.demoAppSecret).toBe(b.wellKnown.demoAppSecret);
    expect(a.brokerRegistrations.get(a.wellKnown.brokerRegistrationId)?.key).toBe(b.brokerRegistrations.get(b.wellKnown.brokerRegistrationId)?.key);
    expect(c.wellKnown.demoAppId).not.toBe(a.wellKnown.demoAppId);
    expect(Buffer.from(a.brokerRegistrations.get(a.wellKnown.brokerRegistrationId)!.key, 'base64')).toHaveLength(32);
    expect(a.brokerRegistrations.get(a.wellKnown.brokerRegistrationId)?.token).toBe(a.tenantId);
  });

  it('serves the token endpoint under the tenant domain, and refuses app-only tokens from organizations', async () => {
    const { wellKnown, domain } = emulator.tenant;
    const form = {
      grant_type: 'client_credentials',
      client_id: wellKnown.demoAppId,
      client_secret: wellKnown.demoAppSecret,
      scope: 'https://graph.microsoft.com/.default',
    };
    const byDomain = await postToken(emulator, form, domain);
    expect(byDomain.status).toBe(200);
    expect((await verifyWithJwks(emulator, String(byDomain.body.access_token), 'https://graph.microsoft.com')).tid).toBe(emulator.tenantId);
    const multi = await postToken(emulator, form, 'organizations');
    expect([multi.status, multi.body.error_codes]).toEqual([400, [50059]]);
    const get = await emulator.fetch(`/${emulator.tenantId}/oauth2/v2.0/token`);
    expect(get.status).toBe(400);
    expect(((await get.json()) as { error_codes: number[] }).error_codes).toEqual([900561]);
  });
});
