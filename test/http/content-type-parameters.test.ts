import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { rawExchange } from '../support/raw-http.js';
import { GOOD_KEY as KEY, startKeyGuardedGateway } from '../support/key-guarded-gateway.js';

/**
 * The charset of a POST body is read from the parsed media type (src/http/media-type.ts, RFC 9110
 * §8.3 through the `content-type` package). Before, a regular expression took the first `charset=`
 * anywhere in the header: `charset=utf-8; charset=latin1` was read as UTF-8 (a proxy in front that
 * keeps the last reads Latin-1), and `foo="x; charset=latin1"` was refused as Latin-1. Each case is
 * sent byte for byte over a real socket: fetch would not send some of these headers as written.
 */
describe('the Content-Type of a POST body', () => {
  let gw: TestGateway;
  let port: number;
  beforeAll(async () => {
    gw = await startKeyGuardedGateway();
    port = Number(new URL(gw.url).port);
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
  });

  const body = JSON.stringify({ query: '{ __typename }' });
  const post = async (type: string) => {
    const raw = await rawExchange(
      port,
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      { encoding: 'utf8' },
    );
    const status = Number(raw.split(' ')[1]);
    const json = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as {
      data?: unknown;
      errors?: Array<{ message: string; extensions: Record<string, unknown> }>;
    };
    return { status, json };
  };

  it.each([
    'application/json; charset=utf-8; charset=latin1',
    'application/json; charset=latin1; charset=utf-8',
    'application/json; charset=utf-8; CHARSET=utf-8',
    'application/json; foo=1; foo=2',
  ])('a repeated parameter → 400 INVALID_CONTENT_TYPE, unread: %s', async (type) => {
    const { status, json } = await post(type);
    expect(status).toBe(400);
    expect(json.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_CONTENT_TYPE' });
    expect(json.errors?.[0]?.message).toMatch(/more than once/);
  });

  it.each([
    'application/json; foo="x; charset=latin1"',
    'application/json; foo="a \\" charset=latin1"',
    'application/json; foo="x; charset=latin1"; charset=utf-8',
    'application/json;',
    'application/json; charset=utf-8;',
    'application/json;; charset="UTF-8" ;',
    'Application/JSON',
  ])('`charset=` inside a quoted value, empty parameters (RFC 9110) and letter case are read as they should: %s', async (type) => {
    const { status, json } = await post(type);
    expect(status, JSON.stringify(json)).toBe(200);
    expect(json).toEqual({ data: { __typename: 'Query' } });
  });

  it.each(['application/json; charset=latin1', 'application/json; foo="x"; charset="iso-8859-1"', 'application/json; charset="utf-16"'])(
    'another charset, quoted or not → 415 UNSUPPORTED_CHARSET: %s',
    async (type) => {
      const { status, json } = await post(type);
      expect(status).toBe(415);
      expect(json.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNSUPPORTED_CHARSET' });
    },
  );

  it.each([
    'application/json; charset',
    'application/json; charset=',
    'application/json; foo="unterminated; charset=utf-8',
    'application/json; charset=utf-8 x',
    'json',
    '; charset=utf-8',
  ])('a header that is not a media type → 400 INVALID_CONTENT_TYPE, unread: %s', async (type) => {
    const { status, json } = await post(type);
    expect(status).toBe(400);
    expect(json.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_CONTENT_TYPE' });
  });
});
