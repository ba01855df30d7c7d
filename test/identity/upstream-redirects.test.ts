import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config-types.js';
import { createGraphIdentity } from '../../src/identity/index.js';
import { emulatorConfig, startIdentityTestBed, type IdentityTestBed } from './support.js';

/**
 * A credential goes to the address it was configured for, never where an answer redirects it
 * (docs/security.md#upstream-redirects-are-not-followed). The hosted broker's token request carries
 * `encrypted_token`: the registration Token or the kept refresh token, sealed with a timestamp, which
 * the broker exchanges for a Graph token. Before, the upstream layer's fetch followed redirects: a
 * broker URL answering 307 to another host (a moved or hijacked endpoint, an open redirect on the
 * broker's host) made the gateway POST the same body there, where it could be replayed to the
 * broker; and the access token the other host answered was used for Graph.
 */
let bed: IdentityTestBed;
let broker: Server;
let elsewhere: Server;
let brokerUrl = '';
const received: string[] = [];

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  bed = await startIdentityTestBed('mgug-redirects-');
  elsewhere = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'token-from-elsewhere', expires_in: 3600 }));
    });
  });
  const elsewhereOrigin = await listen(elsewhere);
  broker = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(307, { location: `${elsewhereOrigin}/steal` });
      res.end();
    });
  });
  brokerUrl = `${await listen(broker)}/broker/obtain-token`;
});

afterAll(async () => {
  await new Promise((resolve) => broker?.close(resolve));
  await new Promise((resolve) => elsewhere?.close(resolve));
  await bed?.close();
});

describe('upstream redirects', () => {
  it('a broker answering 307 to another host: the token request is not sent there, and nothing it would answer is used', async () => {
    const config = emulatorConfig(bed.emulator, bed.dataDir, {
      deploymentMode: 'hosted',
      hosted: { brokerUrl, registrationId: 'reg-0123', token: new Secret('reg-token'), key: new Secret(randomBytes(32).toString('base64')) },
      cache: { kind: 'memory' },
    });
    const identity = await createGraphIdentity(config, bed.deps);
    const outcome = await identity
      .tokenSourceFor({ kind: 'anonymous', permissions: new Set() })
      .getAccessToken()
      .catch((e: unknown) => e);
    await identity.close?.();
    expect(outcome).not.toBe('token-from-elsewhere');
    expect(outcome).toMatchObject({ code: expect.stringMatching(/^UPSTREAM_/) });
    expect(received).toEqual([]);
  });
});
