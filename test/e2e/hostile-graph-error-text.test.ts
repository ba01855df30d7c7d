import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { apiKeyCallers } from '../support/api-key-callers.js';
import type { TestEmulator } from '../support/emulator.js';
import {
  answerJson,
  graphIdentityEnvBehind,
  startAppBehindHostileGraph,
  type AppBehindHostileGraph,
  type HostileGraph,
  type HostileRequest,
} from '../support/hostile-graph.js';
import { startProductionGateway, type GatewayProcess } from '../support/gateway-process.js';
import { capturingLogger } from '../support/log-capture.js';

/**
 * What answers at the Graph endpoint holds the gateway's bearer token, and writes the error texts
 * the gateway passes on (its code, message and request-id). One that echoes the request (a
 * compromised Graph, a proxy in front of it) handed that token, with every Graph permission of the
 * gateway's app, to a caller allowed only to read: the production configuration against a Graph
 * relaying to the emulator except where it answers with the token written into every text.
 */
let emulator: TestEmulator;
let graph: HostileGraph;
let app: App;
const lines: string[] = [];
const readerKey = randomBytes(24).toString('base64url');

let setup: AppBehindHostileGraph;

beforeAll(async () => {
  setup = await startAppBehindHostileGraph({
    userCount: 10,
    env: { LOG_LEVEL: 'trace' },
    callers: { reader: { key: readerKey, permissions: ['Users.Read'] } },
    logger: capturingLogger(lines, 'trace'),
  });
  ({ emulator, graph, app } = setup);
}, 60_000);

afterAll(() => setup?.close());

const gql = async (query: string) => {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': readerKey },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, text: await res.text() };
};

/** The bearer token Graph received, without its scheme. */
const tokenOf = (req: HostileRequest) => String(req.headers.authorization).replace(/^Bearer /, '');

/** An error body and headers that repeat the token in every text the gateway reads. */
function echoingError(req: HostileRequest) {
  const token = tokenOf(req);
  return {
    body: {
      error: {
        code: 'Authorization_RequestDenied',
        message: `Insufficient privileges for\u001b[2J\n\u202e ${req.headers.authorization}`,
        innerError: { code: `Denied ${token}`, 'request-id': token, date: new Date().toUTCString() },
      },
    },
    headers: { 'request-id': token },
  };
}

/** The token's payload and signature segments: either one in a text is the token given away. */
function segmentsOf(token: string): string[] {
  return token.split('.').slice(1);
}

function expectNoToken(text: string, tokens: string[]): void {
  for (const token of tokens) for (const segment of segmentsOf(token)) expect(text).not.toContain(segment.slice(0, 40));
}

describe('Graph error texts that echo the bearer token', () => {
  it('a failed call: the caller gets the code and a scrubbed message, no token, no control characters', async () => {
    const tokens: string[] = [];
    graph.answer = (req, res) => {
      if (!req.url.startsWith('/v1.0/users?')) return false;
      tokens.push(tokenOf(req));
      const { body, headers } = echoingError(req);
      return answerJson(res, 403, body, headers);
    };
    const r = await gql('{ users(first: 3) { nodes { id displayName } } }');
    graph.answer = () => false;
    expect(tokens.length).toBeGreaterThan(0);
    const error = JSON.parse(r.text).errors[0];
    expect(error.extensions.code).toBe('FORBIDDEN');
    // The outer code reads as a code and is kept; the inner one holding the token is not one.
    expect(error.extensions.graphErrorCode).toBe('Authorization_RequestDenied');
    expect(error.message).toMatch(/^Microsoft Graph denied the operation: Authorization_RequestDenied: Insufficient privileges for/);
    expect(error.message).toContain('[redacted]');
    // eslint-disable-next-line no-control-regex
    expect(error.message).not.toMatch(/[\u0000-\u001f\u202e]/);
    expect(error.extensions.requestId).toBeUndefined();
    expectNoToken(r.text, tokens);
    expectNoToken(lines.join('\n'), tokens);
  });

  it('$batch items: the same for each item, and their request-id headers', async () => {
    const tokens: string[] = [];
    graph.answer = (req, res) => {
      if (req.method !== 'POST' || !req.url.startsWith('/v1.0/$batch')) return false;
      tokens.push(tokenOf(req));
      const items = (JSON.parse(req.body) as { requests: Array<{ id: string }> }).requests;
      const { body, headers } = echoingError(req);
      return answerJson(res, 200, { responses: items.map((item) => ({ id: item.id, status: 400, headers, body })) }, { 'request-id': tokenOf(req) });
    };
    const r = await gql('{ users(first: 2) { nodes { id directReports(first: 5) { nodes { id } } } } }');
    graph.answer = () => false;
    expect(tokens.length).toBeGreaterThan(0);
    const errors = JSON.parse(r.text).errors as Array<{ message: string; extensions: Record<string, unknown> }>;
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
      expect(error.message).toContain('[redacted]');
      expect(error.extensions.requestId).toBeUndefined();
    }
    expectNoToken(r.text, tokens);
    expectNoToken(lines.join('\n'), tokens);
  });

  it('a request-id that reads as one is still passed on', async () => {
    graph.answer = (req, res) => {
      if (!req.url.startsWith('/v1.0/users?')) return false;
      return answerJson(
        res,
        403,
        { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } },
        {
          'request-id': '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f',
        },
      );
    };
    const r = await gql('{ users(first: 3) { nodes { id } } }');
    graph.answer = () => false;
    const error = JSON.parse(r.text).errors[0];
    expect(error.message).toBe('Microsoft Graph denied the operation: Authorization_RequestDenied: Insufficient privileges to complete the operation.');
    expect(error.extensions.requestId).toBe('0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f');
  });
});

describe('the production build', () => {
  let gw: GatewayProcess | undefined;
  afterAll(async () => {
    gw?.kill();
    await gw?.exited;
  });

  it('gives a reader no token either (node dist/src/main.js, NODE_ENV=production)', async () => {
    gw = await startProductionGateway({
      dataDir: emulator.dataDir,
      env: {
        ...graphIdentityEnvBehind(emulator, graph),
        LOG_LEVEL: 'trace',
        ...apiKeyCallers({ reader: { key: readerKey, permissions: ['Users.Read'] } }),
      },
    });
    const tokens: string[] = [];
    graph.answer = (req, res) => {
      if (!req.url.startsWith('/v1.0/users?')) return false;
      tokens.push(tokenOf(req));
      const { body, headers } = echoingError(req);
      return answerJson(res, 403, body, headers);
    };
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': readerKey },
      body: JSON.stringify({ query: '{ users(first: 3) { nodes { id } } }' }),
    });
    graph.answer = () => false;
    const text = await res.text();
    expect(tokens).toHaveLength(1);
    expect(JSON.parse(text).errors[0].extensions).toEqual({ code: 'FORBIDDEN', graphErrorCode: 'Authorization_RequestDenied' });
    expectNoToken(text, tokens);
    expectNoToken(gw.output(), tokens);
  }, 240_000);
});
