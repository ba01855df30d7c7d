/**
 * docs/graph-facts.md#json-batching: `POST /v1.0/$batch` as learn.microsoft.com/graph/json-batching
 * describes it (at most 20 requests, unique ids, relative URLs, per-item headers and authorization,
 * `dependsOn` and 424, answers in any order), and the write-item rule: a POST/PATCH/PUT item needs
 * `headers` with `Content-Type` and a `body` (`{}` allowed), or Graph refuses the whole batch with
 * 400 "Write request id : {id} does not contain Content-Type header or body." (json-batching example
 * request 4; microsoftgraph/microsoft-graph-docs#6682; microsoftgraph/msgraph-sdk-dotnet#2628). A single
 * write with a non-JSON `Content-Type` is 400 Request_BadRequest "A supported MIME type could not be
 * found…" (microsoftgraph/msgraph-sdk-java#687, #357); one with a body and no `Content-Type` is 400
 * BadRequest (microsoft-graph-docs-contrib#6337; msgraph-sample-pythondjangoapp#22). Batches written by the gateway's own `$batch`
 * executor (src/graph/batch.ts) are sent too.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { graphPaths } from '../../../src/graph/paths.js';
import { userRequest } from '../../../src/graph/requests.js';
import type { GraphRequest } from '../../../src/graph/types.js';
import type { TestEmulator } from '../../support/emulator.js';
import { type graphCaller, mintToken, USER_ADMIN_APP_ID } from '../graph/graph-client.js';
import { type Conformance, graphErrorCode, startConformance } from './support.js';

let c: Conformance;
let emulator: TestEmulator;
let graph: ReturnType<typeof graphCaller>;

beforeAll(async () => {
  c = await startConformance(['User Administrator']);
  ({ emulator, graph } = c);
});
afterAll(async () => {
  await c.close();
});
beforeEach(async () => {
  await emulator.resetStats();
});

const get = (id: string, url: string, extra: Record<string, unknown> = {}) => ({ id, method: 'GET', url, ...extra });

describe('POST /v1.0/$batch (json-batching)', () => {
  it('runs items through the router, answers each by id, and counts the items in stats', async () => {
    const users = [...emulator.tenant.users.values()].slice(0, 6);
    const requests = users.map((u, i) => get(String(i + 1), `/users/${u.id}?$select=id,displayName`));
    const res = await graph('POST', '/v1.0/$batch', { body: { requests } });
    expect(res.status).toBe(200);
    const responses = res.body.responses as Array<{ id: string; status: number; body: { id: string } }>;
    expect(responses).toHaveLength(6);
    expect(responses.map((r) => r.id)).not.toEqual(['1', '2', '3', '4', '5', '6']);
    for (const r of responses) {
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(users[Number(r.id) - 1]!.id);
    }
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(stats.byRoute['POST /v1.0/$batch']).toBe(1);
    expect(stats.batch).toMatchObject({ requests: 1, items: 6 });
    expect(stats.batch.itemsByRoute['GET /v1.0/users/{id}']).toBe(6);
  });

  it('refuses 21 items, duplicate ids and malformed JSON as a whole', async () => {
    const tooMany = await graph('POST', '/v1.0/$batch', { body: { requests: Array.from({ length: 21 }, (_, i) => get(String(i), '/users?$top=1')) } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toContain('20');
    const dup = await graph('POST', '/v1.0/$batch', { body: { requests: [get('a', '/users?$top=1'), get('A', '/users?$top=1')] } });
    expect(dup.status).toBe(400);
    const malformed = await graph('POST', '/v1.0/$batch', { body: '{"requests": [' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('BadRequest');
  });

  it('dependsOn: a failed dependency gives 424 to its dependants', async () => {
    const res = await graph('POST', '/v1.0/$batch', {
      body: {
        requests: [
          get('1', '/users/no-such-user@contoso.example'),
          get('2', '/users?$top=1', { dependsOn: ['1'] }),
          get('3', '/users?$top=1', { dependsOn: ['2'] }),
          get('4', '/users?$top=1'),
        ],
      },
    });
    const byId = Object.fromEntries((res.body.responses as Array<{ id: string; status: number }>).map((r) => [r.id, r.status]));
    expect(byId).toEqual({ '1': 404, '2': 424, '3': 424, '4': 200 });
  });

  // microsoftgraph/microsoft-graph-docs-contrib#8576: an item URL with https://graph.microsoft.com/v1.0 in
  // front makes Graph answer the batch 400 "Invalid batch payload format." (json-batching: the url is relative).
  it('an absolute item URL refuses the whole batch: 400 BadRequest "Invalid batch payload format.", no item runs', async () => {
    const target = [...emulator.tenant.users.values()][51]!;
    const before = target.jobTitle;
    await emulator.resetStats();
    const res = await graph('POST', '/v1.0/$batch', {
      body: {
        requests: [
          get('abs', `${emulator.origin}/v1.0/users?$top=1`),
          { id: 'patch', method: 'PATCH', url: `/users/${target.id}`, body: { jobTitle: 'Absolute' }, headers: { 'Content-Type': 'application/json' } },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'BadRequest', message: 'Invalid batch payload format.' });
    expect(target.jobTitle).toBe(before);
    expect((await emulator.stats()).batch).toMatchObject({ items: 0 });
  });

  it('per-item rules: per-item ConsistencyLevel, per-item authorization', async () => {
    const target = [...emulator.tenant.users.values()][50]!;
    const res = await graph('POST', '/v1.0/$batch', {
      body: {
        requests: [
          { id: 'patch', method: 'PATCH', url: `/users/${target.id}`, body: { jobTitle: 'Batch Title' }, headers: { 'Content-Type': 'application/json' } },
          get('count', "/users?$filter=endsWith(mail,'@contoso.example')&$count=true&$top=1", { headers: { ConsistencyLevel: 'eventual' } }),
          get('nocount', "/users?$filter=endsWith(mail,'@contoso.example')&$count=true&$top=1"),
        ],
      },
    });
    const byId: Record<string, any> = Object.fromEntries((res.body.responses as Array<{ id: string }>).map((r) => [r.id, r]));
    expect(byId.patch.status).toBe(204);
    expect(target.jobTitle).toBe('Batch Title');
    expect(byId.count.status).toBe(200);
    expect(byId.count.body['@odata.count']).toBeGreaterThan(0);
    expect(byId.nocount.status).toBe(400);
    expect(byId.nocount.body.error.code).toBe('Request_UnsupportedQuery');

    const readOnly = await mintToken(emulator, { roles: ['User.Read.All'] });
    const denied = await graph('POST', '/v1.0/$batch', {
      token: readOnly,
      body: {
        requests: [
          { id: '1', method: 'PATCH', url: `/users/${target.id}`, body: { accountEnabled: false }, headers: { 'content-type': 'application/json' } },
          get('2', `/users/${target.id}`),
        ],
      },
    });
    const statuses = Object.fromEntries((denied.body.responses as Array<{ id: string; status: number }>).map((r) => [r.id, r.status]));
    expect(statuses).toEqual({ '1': 403, '2': 200 });
    const unauthenticated = await graph('POST', '/v1.0/$batch', { token: null, body: { requests: [get('1', '/users')] } });
    expect(unauthenticated.status).toBe(401);
  });
});

describe('write items need a body and Content-Type (json-batching request 4; msgraph-sdk-dotnet#2628)', () => {
  const plainUser = () =>
    [...emulator.tenant.users.values()].find((u) => u.accountEnabled && u._directoryRoles.length === 0 && u.userType === 'Member' && u.jobTitle !== 'Batch')!;

  it.each([
    [
      'a body-less POST (regression: revokeSignInSessions as the gateway used to send it)',
      (id: string) => ({ method: 'POST', url: `/users/${id}/revokeSignInSessions` }),
    ],
    [
      'a POST with headers but no body',
      (id: string) => ({ method: 'POST', url: `/users/${id}/revokeSignInSessions`, headers: { 'Content-Type': 'application/json' } }),
    ],
    ['a POST with a body but no Content-Type', (id: string) => ({ method: 'POST', url: `/users/${id}/revokeSignInSessions`, body: {} })],
    ['a PATCH with a body but no Content-Type', (id: string) => ({ method: 'PATCH', url: `/users/${id}`, body: { accountEnabled: false } })],
  ])('refuses the WHOLE batch for %s: 400 in Graph error shape, no item runs', async (_what, write) => {
    const target = plainUser();
    const before = target.signInSessionsValidFromDateTime;
    const res = await graph('POST', '/v1.0/$batch', {
      body: {
        requests: [
          { id: '0', ...write(target.id) },
          { id: '1', method: 'PATCH', url: `/users/${target.id}`, body: { jobTitle: 'Batch' }, headers: { 'Content-Type': 'application/json' } },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'BadRequest', message: 'Write request id : 0 does not contain Content-Type header or body.' });
    expect(res.body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(target.jobTitle).not.toBe('Batch');
    expect(target.signInSessionsValidFromDateTime).toBe(before);
    expect(target.accountEnabled).toBe(true);
    expect((await emulator.stats()).batch.items).toBe(0);
  });

  it('accepts the documented shape: body {} and Content-Type on the action, GET and DELETE without either', async () => {
    const target = plainUser();
    const res = await graph('POST', '/v1.0/$batch', {
      body: {
        requests: [
          { id: '0', method: 'POST', url: `/users/${target.id}/revokeSignInSessions`, body: {}, headers: { 'Content-Type': 'application/json' } },
          { id: '1', method: 'GET', url: `/users/${target.id}?$select=id` },
        ],
      },
    });
    expect(res.status).toBe(200);
    const statuses = Object.fromEntries((res.body.responses as Array<{ id: string; status: number }>).map((r) => [r.id, r.status]));
    expect(statuses).toEqual({ '0': 200, '1': 200 });
  });
});

describe('a single write with a non-JSON Content-Type (msgraph-sdk-java#687, #357)', () => {
  const plain = () => [...emulator.tenant.users.values()].find((u) => u.accountEnabled && u._directoryRoles.length === 0 && u.userType === 'Member')!;

  it('revokeSignInSessions sent as application/octet-stream or text/plain: 400 Request_BadRequest, nothing revoked', async () => {
    const target = plain();
    const before = target.signInSessionsValidFromDateTime;
    await new Promise((r) => setTimeout(r, 1000)); // revocation has whole-second granularity
    for (const type of ['application/octet-stream', 'text/plain']) {
      const res = await graph('POST', `/v1.0/users/${target.id}/revokeSignInSessions`, { headers: { 'content-type': type } });
      expect(res.status).toBe(400);
      expect(graphErrorCode(res)).toBe('Request_BadRequest');
      expect(res.body.error.message).toMatch(/^A supported MIME type could not be found that matches the content type of the response\./);
    }
    expect(target.signInSessionsValidFromDateTime).toBe(before);
  });

  it('with application/json (and a charset), or with no body and no Content-Type at all, it is 200', async () => {
    const target = plain();
    expect(
      (await graph('POST', `/v1.0/users/${target.id}/revokeSignInSessions`, { body: {}, headers: { 'content-type': 'application/json; charset=utf-8' } }))
        .status,
    ).toBe(200);
    expect((await graph('POST', `/v1.0/users/${target.id}/revokeSignInSessions`)).status).toBe(200);
  });
});

describe('a single write with a body and no Content-Type (microsoft-graph-docs-contrib#6337; msgraph-sample-pythondjangoapp#22)', () => {
  const plain = () =>
    [...emulator.tenant.users.values()].find((u) => u.accountEnabled && u._directoryRoles.length === 0 && u.userType === 'Member' && !u.onPremisesSyncEnabled)!;
  // A Buffer body: fetch adds no Content-Type of its own (a string body would get text/plain).
  const bare = async (method: string, path: string, body: unknown) => {
    const token = await mintToken(emulator, { appid: USER_ADMIN_APP_ID });
    const res = await emulator.fetch(`${emulator.origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
      body: Buffer.from(JSON.stringify(body), 'utf8'),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  it('regression: a user update or create is 400 BadRequest "Entity only allows writes with a JSON Content-Type header."; nothing changes', async () => {
    const target = plain();
    const before = target.jobTitle;
    const patched = await bare('PATCH', `/v1.0/users/${target.id}`, { jobTitle: 'No content type' });
    expect(patched.status).toBe(400);
    expect(patched.body.error).toMatchObject({ code: 'BadRequest', message: 'Entity only allows writes with a JSON Content-Type header.' });
    expect(target.jobTitle).toBe(before);
    const count = emulator.tenant.users.size;
    const created = await bare('POST', '/v1.0/users', {
      accountEnabled: true,
      displayName: 'No Content Type',
      mailNickname: 'nocontenttype',
      userPrincipalName: `nocontenttype@${emulator.tenant.domain}`,
      passwordProfile: { password: 'Xy7!kLm#2pQr' },
    });
    expect(created.status).toBe(400);
    expect(created.body.error.message).toBe('Entity only allows writes with a JSON Content-Type header.');
    expect(emulator.tenant.users.size).toBe(count);
  });

  it('regression: an action with a body (getByIds) is 400 BadRequest "Unable to read JSON request payload. Please ensure Content-Type header is set…"', async () => {
    const res = await bare('POST', '/v1.0/directoryObjects/getByIds?$select=id', { ids: [plain().id], types: ['user'] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'BadRequest',
      message: 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    });
  });

  it('the $batch envelope is such a write: without Content-Type it is 400 BadRequest "Unable to read JSON request payload…", with text/plain 400 Request_BadRequest, and no item runs', async () => {
    const target = plain();
    const before = target.signInSessionsValidFromDateTime;
    const requests = [
      { id: '1', method: 'GET', url: `/users/${target.id}?$select=id` },
      { id: '2', method: 'POST', url: `/users/${target.id}/revokeSignInSessions`, body: {}, headers: { 'Content-Type': 'application/json' } },
    ];
    await emulator.resetStats();
    const res = await bare('POST', '/v1.0/$batch', { requests });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'BadRequest',
      message: 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    });
    const typed = await graph('POST', '/v1.0/$batch', { body: JSON.stringify({ requests }), headers: { 'content-type': 'text/plain' } });
    expect(typed.status).toBe(400);
    expect(graphErrorCode(typed)).toBe('Request_BadRequest');
    expect(target.signInSessionsValidFromDateTime).toBe(before);
    expect((await emulator.stats()).batch).toMatchObject({ items: 0 });
  });

  it("the gateway's client sends every single write with its Content-Type, so Graph runs it", async () => {
    const target = plain();
    const client = await c.gatewayClient();
    const patched = await client.request({ method: 'PATCH', path: graphPaths.user(target.id), body: { jobTitle: 'Single write' }, effect: 'idempotent-write' });
    expect(patched.ok).toBe(true);
    expect(target.jobTitle).toBe('Single write');
    const revoked = await client.request({ method: 'POST', path: graphPaths.userSub(target.id, 'revokeSignInSessions'), effect: 'idempotent-write' });
    expect(revoked.ok).toBe(true);
  });
});

describe("what the gateway's $batch executor sends (src/graph/batch.ts)", () => {
  it('a body-less POST and a PATCH in one batch go out with body and Content-Type, and Graph runs both', async () => {
    const target = [...emulator.tenant.users.values()].find(
      (u) => u.accountEnabled && u._directoryRoles.length === 0 && u.userType === 'Member' && u.jobTitle !== 'Gateway batch',
    )!;
    const client = await c.gatewayClient();
    const requests: GraphRequest[] = [
      // As a caller could build it: no body at all on the action.
      { method: 'POST', path: graphPaths.userSub(target.id, 'revokeSignInSessions'), effect: 'idempotent-write' },
      { method: 'PATCH', path: graphPaths.user(target.id), body: { jobTitle: 'Gateway batch' }, effect: 'idempotent-write' },
      userRequest(target.id, ['id', 'jobTitle']),
    ];
    await emulator.resetStats();
    const results = await client.batch(requests);
    expect(results.map((r) => [r.ok, r.status])).toEqual([
      [true, 200],
      [true, 204],
      [true, 200],
    ]);
    expect(target.jobTitle).toBe('Gateway batch');
    expect((await emulator.stats()).batch).toMatchObject({ requests: 1, items: 3 });
  });

  it('splits at 20 items per batch (json-batching: at most 20)', async () => {
    const client = await c.gatewayClient();
    const ids = [...emulator.tenant.users.keys()].slice(0, 45);
    await emulator.resetStats();
    const results = await client.batch(ids.map((id) => userRequest(id, ['id'])));
    expect(results.every((r) => r.ok)).toBe(true);
    expect((await emulator.stats()).batch).toMatchObject({ requests: 3, items: 45 });
  });
});
