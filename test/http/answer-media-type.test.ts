import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { GOOD_KEY as KEY, startKeyGuardedGateway } from '../support/key-guarded-gateway.js';

/**
 * The answer's Content-Type follows the request's Accept as Apollo Server chooses it (JSON first,
 * then application/graphql-response+json; 406 when neither is acceptable), negotiated once per
 * distinct Accept value by src/graphql/plugins/answer-media-type.ts. Each header is sent twice (the
 * second answer comes from the remembered choice) and again after more distinct values than are
 * remembered.
 */
describe('the Content-Type of an answer', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startKeyGuardedGateway();
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
  });

  const ask = async (accept: string | undefined, query = '{ __typename }') => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY, ...(accept !== undefined ? { accept } : {}) },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };

  const JSON_TYPE = 'application/json; charset=utf-8';
  const GRAPHQL_RESPONSE = 'application/graphql-response+json; charset=utf-8';
  const cases: Array<[string | undefined, string]> = [
    [undefined, JSON_TYPE],
    ['application/json', JSON_TYPE],
    ['*/*', JSON_TYPE],
    ['application/*', JSON_TYPE],
    ['application/graphql-response+json', GRAPHQL_RESPONSE],
    ['application/graphql-response+json, application/json;q=0.9', GRAPHQL_RESPONSE],
    ['application/json;q=0.5, application/graphql-response+json', GRAPHQL_RESPONSE],
    ['text/html, application/json;q=0.1', JSON_TYPE],
  ];

  it.each(cases)('Accept %s → %s, the same when asked again', async (accept, expected) => {
    for (let i = 0; i < 2; i++) {
      const answer = await ask(accept);
      expect(answer.status).toBe(200);
      expect(answer.type).toBe(expected);
      expect(JSON.parse(answer.body)).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('an Accept without any JSON type is 406, every time', async () => {
    for (let i = 0; i < 2; i++) {
      const answer = await ask('text/html');
      expect(answer.status).toBe(406);
      expect(answer.body).toMatch(/does not accept/);
    }
  });

  it('an error answer has the negotiated type too', async () => {
    const answer = await ask('application/graphql-response+json', '{ nosuchfield }');
    expect(answer.status).toBe(400);
    expect(answer.type).toBe(GRAPHQL_RESPONSE);
  });

  it('past the remembered values, and for a long header, the choice is still negotiated', async () => {
    for (let i = 0; i < 80; i++) expect((await ask(`application/x-${i}, application/graphql-response+json`)).type).toBe(GRAPHQL_RESPONSE);
    expect((await ask('application/json')).type).toBe(JSON_TYPE);
    expect((await ask(`${'application/x-long;a=b, '.repeat(20)}application/graphql-response+json`)).type).toBe(GRAPHQL_RESPONSE);
    expect((await ask(`${'application/x-long;a=b, '.repeat(20)}text/html`)).status).toBe(406);
  });
});
