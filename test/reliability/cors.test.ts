import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/** CORS from an allowlist only: browsers on other origins get no CORS grant. */
describe('CORS allowlist', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { CORS_ORIGINS: 'https://app.contoso.example' } });
  }, 60_000);
  afterAll(async () => {
    await gw.close();
  });

  it('answers a preflight from an allowed origin with that origin, the methods and the headers', async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.contoso.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.contoso.example');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(res.headers.get('vary')).toMatch(/Origin/);
  });

  it('grants nothing to another origin, on a preflight or on a request', async () => {
    const preflight = await fetch(`${gw.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const post = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }),
    });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });
});
