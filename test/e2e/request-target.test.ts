import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * The request target is a path; it never names the host. Before, the router resolved it against
 * the Host with `new URL(target, base)`:
 * - `GET http://evil.example/auth/login` (absolute-form) or `GET //evil.example/auth/login` (which a
 *   browser sends for `https://gateway//evil.example/auth/login`) made `/auth/login` send Entra the
 *   redirect URI `http://evil.example/auth/callback`, and `POST /auth/login-link` hand out a link to
 *   `http://evil.example/auth/login`, past the check on `Host`;
 * - a target or Host the URL parser refuses (`//a:99999/`, `Host: 127.0.0.1:99999`) threw out of
 *   the router: 500 INTERNAL_SERVER_ERROR and an `error` line with a stack and the caller's text, for
 *   anyone, without a credential and without a limit.
 * Production configuration (NODE_ENV=production, API keys), authorization-code flow, real sockets.
 */
const ADMIN_KEY = 'admin-key-0123456789';

/** One raw HTTP/1.1 exchange (fetch cannot send these targets); resolves to the whole answer. */
function exchange(port: number, head: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(`${head}\r\n\r\n`));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const end = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.split(' ')[1]), headers: text.slice(0, end).toLowerCase(), body: text.slice(end + 4) });
    });
  });
}

describe('request targets and Host (production configuration)', () => {
  let emulator: TestEmulator;
  let app: App;
  let port: number;
  const logLines: string[] = [];
  const records = () => logRecordsOf(logLines);

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 10 });
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      GRAPH_AUTH_FLOW: 'authorization-code',
      ...apiKeyCallers({ admin: { key: ADMIN_KEY, permissions: ['Gateway.Admin'] } }),
      TOKEN_CACHE_KEY: 'request target test key',
    });
    app = await startApp(config, { emulator, logger: capturingLogger(logLines, 'debug') });
    port = Number(new URL(app.url).port);
  }, 60_000);

  afterAll(async () => {
    await app.close();
    await emulator.close();
  });

  it('never takes the host of the sign-in redirect or of a sign-in link from the request target', async () => {
    const started = () => records().filter((r) => r.msg === 'sign-in started').length;
    const before = started();
    const absolute = await exchange(
      port,
      `GET http://evil.example/auth/login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-api-key: ${ADMIN_KEY}\r\nConnection: close`,
    );
    expect(absolute.status).toBe(400);
    expect(JSON.parse(absolute.body).errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_REQUEST_TARGET' });
    const doubleSlash = await exchange(
      port,
      `GET //evil.example/auth/login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-api-key: ${ADMIN_KEY}\r\nConnection: close`,
    );
    expect(doubleSlash.status).toBe(404);
    const link = await exchange(
      port,
      `POST //evil.example/auth/login-link HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-api-key: ${ADMIN_KEY}\r\nContent-Length: 0\r\nConnection: close`,
    );
    expect(link.status).toBe(404);
    for (const answer of [absolute, doubleSlash, link]) {
      expect(answer.headers).not.toContain('evil.example');
      expect(answer.body).not.toContain('evil.example');
    }
    expect(started()).toBe(before);

    // The same requests with a path: the redirect URI and the link are on the host the caller reached.
    const login = await exchange(port, `GET /auth/login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-api-key: ${ADMIN_KEY}\r\nConnection: close`);
    expect(login.status).toBe(302);
    const location = new URL(/^location: (.*)$/m.exec(login.headers)![1]!);
    expect(location.searchParams.get('redirect_uri')).toBe(`http://127.0.0.1:${port}/auth/callback`);
    const minted = await exchange(
      port,
      `POST /auth/login-link HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-api-key: ${ADMIN_KEY}\r\nContent-Length: 0\r\nConnection: close`,
    );
    expect(minted.status).toBe(201);
    expect(new URL(JSON.parse(minted.body.replace(/^[0-9a-f]+\r\n/, '').split('\r\n')[0]!).url).host).toBe(`127.0.0.1:${port}`);
  });

  it("answers a target or Host the URL parser refuses with a 4xx and no log line, not a 500 and an error with the caller's text", async () => {
    const answers = [
      await exchange(port, `GET //a:99999/graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close`),
      await exchange(port, `GET http://[/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close`),
      await exchange(port, `GET //[x]/readyz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close`),
    ];
    expect(answers.map((a) => a.status)).toEqual([404, 400, 404]);
    // A Host whose port is past 65535 (five digits) or whose address is not one: served as any other request.
    for (const host of ['127.0.0.1:99999', '[::::]', '999.999.999.999']) {
      const health = await exchange(port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close`);
      expect(health.status).toBe(200);
      const graphql = await exchange(port, `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: ${host}\r\napollo-require-preflight: 1\r\nConnection: close`);
      expect(graphql.status).toBe(401);
    }
    expect(records().filter((r) => r.level === 'error')).toEqual([]);
    expect(logLines.join('')).not.toContain('99999');
  });

  it('refuses a request carrying Host or Content-Type twice: the gateway and whatever sits in front must not judge it by different values', async () => {
    // Node keeps the first of two Host (or Content-Type) headers; a proxy or a WAF in front may route
    // or inspect by the last. RFC 9112 §3.2: a request with more than one Host is answered 400.
    const operations = () => records().filter((r) => r.msg === 'graphql operation').length;
    const before = operations();
    const twoHosts = await exchange(
      port,
      `GET /auth/login HTTP/1.1\r\nHost: evil.example\r\nHost: 127.0.0.1:${port}\r\nx-api-key: ${ADMIN_KEY}\r\nConnection: close`,
    );
    expect(twoHosts.status).toBe(400);
    expect(JSON.parse(twoHosts.body).errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'DUPLICATE_HEADER' });
    expect(twoHosts.headers).not.toContain('evil.example');
    const health = await exchange(port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nhost: 127.0.0.1:${port}\r\nConnection: close`);
    expect(health.status).toBe(400);
    const body = '{"query":"{ __typename }"}';
    const twoTypes = await exchange(
      port,
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-api-key: ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(twoTypes.status).toBe(400);
    expect(twoTypes.body).toContain('DUPLICATE_HEADER');
    expect(operations()).toBe(before);
    // Once each: served as before.
    const once = await exchange(
      port,
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-api-key: ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(once.status).toBe(200);
    expect(records().filter((r) => r.level === 'error')).toEqual([]);
  });
});
