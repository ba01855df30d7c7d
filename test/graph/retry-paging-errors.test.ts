import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { mapGraphError, readGraphErrorBody } from '../../src/graph/errors.js';
import { continuationShapes, validateContinuationLink } from '../../src/graph/paging.js';
import { parseRetryAfter } from '../../src/http/retry-after.js';
import { RetryBudget, backoffDelayMs, defaultRetryPolicy } from '../../src/graph/retry.js';

describe('Retry-After', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads seconds', () => {
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });
  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });
  it('ignores absent or invalid values', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
  it('caps absurd values', () => {
    expect(parseRetryAfter('99999999', now)).toBe(3600);
  });
});

describe('backoff and budget', () => {
  it('grows exponentially with jitter between 50 and 100 %', () => {
    const low = { baseDelayMs: 500, maxDelayMs: 10_000, random: () => 0 };
    const high = { ...low, random: () => 1 };
    expect([1, 2, 3].map((n) => backoffDelayMs(n, low))).toEqual([250, 500, 1000]);
    expect([1, 2, 3].map((n) => backoffDelayMs(n, high))).toEqual([500, 1000, 2000]);
    expect(backoffDelayMs(20, high)).toBe(10_000);
  });
  it('bounds attempts and total wait', () => {
    const budget = new RetryBudget(defaultRetryPolicy({ maxRetries: 3, maxTotalWaitMs: 5000 }));
    expect(budget.next(2)).toBe(2000);
    expect(budget.next(2)).toBe(2000);
    expect(budget.next(2)).toBeUndefined(); // 6 s would overrun the 5 s budget
    const counted = new RetryBudget(defaultRetryPolicy({ maxRetries: 2 }));
    expect(counted.next(0)).toBe(0);
    expect(counted.next(0)).toBe(0);
    expect(counted.next(0)).toBeUndefined();
  });
});

describe('continuation links', () => {
  const endpoint = 'https://graph.example.test';
  const codeOf = (link: unknown) => {
    try {
      validateContinuationLink(link, endpoint, continuationShapes.users);
      return 'accepted';
    } catch (error) {
      return (error as GatewayError).code;
    }
  };
  it('accepts a Graph nextLink of the same collection and keeps its query', () => {
    const p = validateContinuationLink(`${endpoint}/v1.0/users?$skiptoken=X%27Y&$top=5`, endpoint, continuationShapes.users);
    expect(p.path).toBe('/users');
    expect(p.rawQuery).toBe('?$skiptoken=X%27Y&$top=5');
    expect(p.template).toBe('/users');
  });
  it.each([
    'https://evil.example/v1.0/users?$skiptoken=x',
    'https://graph.example.test.evil.example/v1.0/users',
    'https://graph.example.test:8443/v1.0/users',
    'http://graph.example.test/v1.0/users',
    'https://user:pw@graph.example.test/v1.0/users',
    'https://graph.example.test/beta/users',
    'https://graph.example.test/v1.0/users/x/authentication/methods',
    'https://graph.example.test/v1.0/users/../me/messages',
    'https://graph.example.test/v1.0/%2e%2e/v1.0/users/x',
    'https://graph.example.test\\@evil.example/v1.0/users',
    '//evil.example/v1.0/users',
    '/v1.0/users',
    'not a url',
    '',
    42,
  ])('refuses %j with BAD_USER_INPUT', (link) => {
    expect(codeOf(link)).toBe('BAD_USER_INPUT');
  });
  it('matches relationship links of any user but only that relationship', () => {
    expect(validateContinuationLink(`${endpoint}/v1.0/users/abc/directReports?$skiptoken=1`, endpoint, continuationShapes.directReports).template).toBe(
      '/users/{id}/directReports',
    );
    expect(() => validateContinuationLink(`${endpoint}/v1.0/users/abc/memberOf?$skiptoken=1`, endpoint, continuationShapes.directReports)).toThrow(
      GatewayError,
    );
  });
  it('takes the delta function under each name a Graph link gives it, and no other function', () => {
    for (const name of ['delta', 'delta()', 'microsoft.graph.delta()', 'Microsoft.Graph.Delta()']) {
      const p = validateContinuationLink(`${endpoint}/v1.0/users/${name}?$deltatoken=abc`, endpoint, continuationShapes.usersDelta);
      expect(p.template, name).toBe('/users/delta');
      expect(p.rawQuery, name).toBe('?$deltatoken=abc');
    }
    for (const name of ['other.delta()', 'microsoft.graph.getByIds()', 'microsoft.graph.delta()/x', 'microsoft%2Egraph.delta()x'])
      expect(() => validateContinuationLink(`${endpoint}/v1.0/users/${name}?$deltatoken=abc`, endpoint, continuationShapes.usersDelta), name).toThrow(
        GatewayError,
      );
  });
  it('honours a base path in the endpoint', () => {
    expect(validateContinuationLink('https://h.test/graph/v1.0/users?$skiptoken=1', 'https://h.test/graph', continuationShapes.users).path).toBe('/users');
    expect(() => validateContinuationLink('https://h.test/v1.0/users', 'https://h.test/graph', continuationShapes.users)).toThrow(GatewayError);
  });
});

describe('Graph error mapping', () => {
  const body = (code: string, message: string, inner?: unknown) => ({ error: { code, message, innerError: inner } });
  it('walks nested innerError for the most specific code and the request id', () => {
    const detail = readGraphErrorBody(
      body('Request_BadRequest', 'outer', { code: 'PasswordPolicy', 'request-id': 'rid-1', innererror: { code: 'PasswordTooShort' } }),
    );
    expect(detail).toEqual({ code: 'PasswordTooShort', message: 'outer', requestId: 'rid-1' });
    expect(readGraphErrorBody(body('TooManyRequests', 'x', { code: '429' })).code).toBe('TooManyRequests');
    expect(readGraphErrorBody('<html>')).toEqual({ code: undefined, message: undefined, requestId: undefined });
  });
  it.each([
    [400, 'BAD_USER_INPUT'],
    [401, 'UPSTREAM_ERROR'],
    [403, 'FORBIDDEN'],
    [404, 'NOT_FOUND'],
    [409, 'BAD_USER_INPUT'],
    [412, 'BAD_USER_INPUT'],
    [429, 'THROTTLED'],
    [500, 'UPSTREAM_UNAVAILABLE'],
    [502, 'UPSTREAM_UNAVAILABLE'],
    [503, 'UPSTREAM_UNAVAILABLE'],
    [504, 'UPSTREAM_UNAVAILABLE'],
    [405, 'UPSTREAM_ERROR'],
    [501, 'UPSTREAM_ERROR'],
  ])('HTTP %i -> %s', (status, code) => {
    const error = mapGraphError({ status, body: body('SomeCode', 'Some message.'), requestId: 'rid-9', retryAfterSeconds: 3 });
    expect(error.code).toBe(code);
    expect(error.extensions.requestId).toBe('rid-9');
    expect(error.extensions.graphErrorCode).toBe('SomeCode');
    if (code === 'THROTTLED' || code === 'UPSTREAM_UNAVAILABLE') expect(error.extensions.retryAfterSeconds).toBe(3);
  });
  it("summarises a 400 with Graph's code and message, trimmed to one safe line", () => {
    const error = mapGraphError({
      status: 400,
      body: body('Request_BadRequest', 'The specified password does not comply with password complexity requirements.\n' + 'x'.repeat(1000)),
      requestId: undefined,
      retryAfterSeconds: undefined,
    });
    expect(error.message.startsWith('Microsoft Graph rejected the request: Request_BadRequest: The specified password does not comply')).toBe(true);
    expect(error.message).not.toContain('\n');
    expect(error.message.length).toBeLessThan(400);
  });
  it('regression: an empty code (json-batching\'s example 403 item: `"code": ""`) is no code: the reason names the status, no empty graphErrorCode', () => {
    // The item body as learn.microsoft.com/graph/json-batching shows it (docs/graph-facts.md#errors-and-request-ids).
    const item = {
      error: {
        code: '',
        message: 'You do not have the required permissions to access this item.',
        innerError: { date: '2025-02-13T10:17:05', 'request-id': '93b6f17e-c05d-4f45-ad2a-6665c708d8a0', 'client-request-id': 'e70c5c1b' },
      },
    };
    expect(readGraphErrorBody(item).code).toBeUndefined();
    const error = mapGraphError({ status: 403, body: item, requestId: undefined, retryAfterSeconds: undefined });
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toBe('Microsoft Graph denied the operation: HTTP 403: You do not have the required permissions to access this item.');
    expect(error.extensions).not.toHaveProperty('graphErrorCode');
    expect(error.extensions.requestId).toBe('93b6f17e-c05d-4f45-ad2a-6665c708d8a0');
  });
  it('gives a retry hint even without Retry-After', () => {
    expect(mapGraphError({ status: 429, body: undefined, requestId: undefined, retryAfterSeconds: undefined }).extensions.retryAfterSeconds).toBeGreaterThan(0);
  });
});
