/**
 * docs/graph-facts.md#national-clouds: the API is the same in every cloud, only the hosts differ
 * (learn.microsoft.com/graph/deployments). The emulator stands in for any of them: every link it
 * returns is on the host it was called on, so a gateway configured with any GRAPH_ENDPOINT can
 * follow it, and tokens of another authority or for another cloud's Graph are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continuationShapes, validateContinuationLink } from '../../../src/graph/paging.js';
import { type Conformance, EVENTUAL, graphErrorCode, mintToken, startConformance } from './support.js';

let c: Conformance;
beforeAll(async () => {
  c = await startConformance(['User Administrator'], { userCount: 150 });
});
afterAll(async () => c.close());

describe('host independence (learn.microsoft.com/graph/deployments)', () => {
  it('@odata.context, @odata.nextLink and @odata.deltaLink are absolute URLs on the host that was called', async () => {
    const page = await c.graph('GET', '/v1.0/users?$top=10&$select=id&$count=true', { headers: EVENTUAL });
    expect(page.body['@odata.context']).toBe(`${c.emulator.origin}/v1.0/$metadata#users(id)`);
    expect(new URL(page.body['@odata.nextLink']).origin).toBe(c.emulator.origin);
    expect(() => validateContinuationLink(page.body['@odata.nextLink'], c.emulator.origin, continuationShapes.users)).not.toThrow();
    const delta = await c.graph('GET', '/v1.0/users/delta?$deltatoken=latest');
    expect(new URL(delta.body['@odata.deltaLink']).origin).toBe(c.emulator.origin);
  });

  it('a link on another Graph host is not one the gateway follows', async () => {
    const page = await c.graph('GET', '/v1.0/users?$top=10&$select=id');
    const foreign = (page.body['@odata.nextLink'] as string).replace(c.emulator.origin, 'https://graph.microsoft.us');
    expect(() => validateContinuationLink(foreign, c.emulator.origin, continuationShapes.users)).toThrow(/configured Microsoft Graph endpoint/);
  });

  it("tokens do not cross clouds: another issuer, or an audience of another cloud's Graph, is 401", async () => {
    const otherAudience = await mintToken(c.emulator, { audience: 'https://graph.microsoft.us' });
    const res = await c.graph('GET', '/v1.0/users?$top=1', { token: otherAudience });
    expect(res.status).toBe(401);
    graphErrorCode(res);
    const signer = c.emulator.context.signer;
    const otherIssuer = await signer.sign(
      {
        aud: c.emulator.origin,
        iss: 'https://login.microsoftonline.us/00000000-0000-0000-0000-000000000000/v2.0',
        tid: c.emulator.tenantId,
        roles: ['User.Read.All'],
      },
      3600,
    );
    expect((await c.graph('GET', '/v1.0/users?$top=1', { token: otherIssuer })).status).toBe(401);
  });

  it('v1.0 and beta take the same requests and answer in the same shapes', async () => {
    const v1 = await c.graph('GET', '/v1.0/users?$top=1&$select=id,displayName');
    const beta = await c.graph('GET', '/beta/users?$top=1&$select=id,displayName');
    expect(beta.status).toBe(v1.status);
    expect(Object.keys(beta.body.value[0])).toEqual(Object.keys(v1.body.value[0]));
    expect(beta.body['@odata.context']).toBe(`${c.emulator.origin}/beta/$metadata#users(id,displayName)`);
  });
});
