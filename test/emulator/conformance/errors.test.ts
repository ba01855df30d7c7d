/**
 * docs/graph-facts.md#errors-and-request-ids: Graph's error body and its request ids
 * (learn.microsoft.com/graph/errors; learn.microsoft.com/graph/json-batching example bodies).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGraphErrorBody } from '../../../src/graph/errors.js';
import { type Conformance, graphErrorCode, mintToken, startConformance } from './support.js';

let c: Conformance;
beforeAll(async () => {
  c = await startConformance();
});
afterAll(async () => c.close());

describe('error shape (learn.microsoft.com/graph/errors)', () => {
  it('is {error:{code,message,innerError:{date,request-id,client-request-id}}}, with the request ids of the response headers', async () => {
    const res = await c.graph('GET', '/v1.0/users?$select=shoeSize', { headers: { 'client-request-id': 'conformance-1' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(res.body)).toEqual(['error']);
    const { code, message, innerError } = res.body.error;
    expect(code).toBe('Request_BadRequest');
    expect(typeof message).toBe('string');
    expect(innerError['request-id']).toBe(res.headers.get('request-id'));
    expect(innerError['client-request-id']).toBe('conformance-1');
    expect(innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    // The gateway's reader finds the code and the request id in it.
    expect(readGraphErrorBody(res.body)).toMatchObject({ code: 'Request_BadRequest', requestId: res.headers.get('request-id') });
  });

  it('every answer carries request-id, client-request-id (echoed when sent, else generated) and Date', async () => {
    const sent = await c.graph('GET', '/v1.0/users?$top=1&$select=id', { headers: { 'client-request-id': 'abc-123' } });
    expect(sent.headers.get('client-request-id')).toBe('abc-123');
    expect(sent.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.headers.get('date')).toBeTruthy();
    const generated = await c.graph('GET', '/v1.0/users?$top=1&$select=id');
    expect(generated.headers.get('client-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an unknown segment is 400 BadRequest "Resource not found for the segment"', async () => {
    const res = await c.graph('GET', '/v1.0/usres');
    expect(res.status).toBe(400);
    expect(graphErrorCode(res)).toBe('BadRequest');
    expect(res.body.error.message).toBe("Resource not found for the segment 'usres'.");
  });

  it('a method the resource does not take is 405 Request_BadRequest (json-batching example, request 4)', async () => {
    const res = await c.graph('DELETE', '/v1.0/users');
    expect(res.status).toBe(405);
    expect(graphErrorCode(res)).toBe('Request_BadRequest');
    expect(res.body.error.message).toBe('Specified HTTP method is not allowed for the request target.');
  });

  it('a caller without the permission gets 403 Authorization_RequestDenied "Insufficient privileges to complete the operation."', async () => {
    const noRoles = await mintToken(c.emulator, { roles: ['Device.Read.All'] });
    const res = await c.graph('GET', '/v1.0/users?$top=1', { token: noRoles });
    expect(res.status).toBe(403);
    expect(graphErrorCode(res)).toBe('Authorization_RequestDenied');
    expect(res.body.error.message).toBe('Insufficient privileges to complete the operation.');
  });

  it('a missing or invalid token is 401 with a Graph error body', async () => {
    const none = await c.graph('GET', '/v1.0/users?$top=1', { token: null });
    expect(none.status).toBe(401);
    graphErrorCode(none);
    const garbage = await c.graph('GET', '/v1.0/users?$top=1', { token: 'not.a.jwt' });
    expect(garbage.status).toBe(401);
    graphErrorCode(garbage);
  });

  it('an unknown user is 404 Request_ResourceNotFound with the documented message', async () => {
    const res = await c.graph('GET', '/v1.0/users/00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(graphErrorCode(res)).toBe('Request_ResourceNotFound');
    expect(res.body.error.message).toBe(
      "Resource '00000000-0000-4000-8000-000000000000' does not exist or one of its queried reference-property objects are not present.",
    );
  });
});
