import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config-types.js';
import { GatewayError } from '../../src/errors.js';
import { createGraphIdentity } from '../../src/identity/index.js';
import { emulatorConfig, startIdentityTestBed, type IdentityTestBed } from './support.js';

/**
 * The broker's answer body can fail after its status and headers arrived: it drips past
 * UPSTREAM_TIMEOUT_MS, or it is larger than MAX_UPSTREAM_RESPONSE_BYTES. Before, the body was read
 * outside the request's error handling, so that failure escaped as msal-style `unknown_error`
 * ("failed with unknown_error: terminated", UPSTREAM_ERROR): neither the operator nor a caller
 * learned that the broker had stopped answering, which a broker that cannot be reached says
 * (UPSTREAM_UNAVAILABLE, naming the broker's host: docs/identity.md#hosted-broker-errors).
 */
let bed: IdentityTestBed;
let broker: Server;
let brokerUrl = '';
let mode: 'drip' | 'huge' = 'drip';

beforeAll(async () => {
  bed = await startIdentityTestBed('mgug-broker-body-');
  broker = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.on('error', () => undefined);
      if (mode === 'drip') {
        res.write('{"access_token":"');
        const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write('a')), 100);
        res.on('close', () => clearInterval(timer));
      } else {
        const chunk = Buffer.alloc(2 ** 20, 0x61);
        res.write('{"access_token":"');
        let sent = 0;
        const pump = () => {
          while (!res.destroyed && sent < 64) {
            sent += 1;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end('"}');
        };
        pump();
      }
    });
  });
  await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
  brokerUrl = `http://127.0.0.1:${(broker.address() as AddressInfo).port}/broker/obtain-token`;
});

afterAll(async () => {
  broker?.closeAllConnections();
  await new Promise((resolve) => broker?.close(resolve));
  await bed?.close();
});

async function acquire(): Promise<unknown> {
  const base = emulatorConfig(bed.emulator, bed.dataDir);
  const config = emulatorConfig(bed.emulator, bed.dataDir, {
    deploymentMode: 'hosted',
    hosted: { brokerUrl, registrationId: 'reg-0123', token: new Secret('reg-token'), key: new Secret(randomBytes(32).toString('base64')) },
    cache: { kind: 'memory' },
    limits: { ...base.limits, upstreamTimeoutMs: 1_000 },
  });
  const identity = await createGraphIdentity(config, bed.deps);
  try {
    return await identity
      .tokenSourceFor({ kind: 'anonymous', permissions: new Set() })
      .getAccessToken()
      .catch((e: unknown) => e);
  } finally {
    await identity.close?.();
  }
}

describe("the hosted broker's answer body", () => {
  it('dripping past UPSTREAM_TIMEOUT_MS: UPSTREAM_UNAVAILABLE like a broker that cannot be reached', async () => {
    mode = 'drip';
    const outcome = await acquire();
    expect(outcome).toBeInstanceOf(GatewayError);
    expect(outcome).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: expect.stringContaining('could not reach the broker') });
  }, 20_000);

  it('larger than MAX_UPSTREAM_RESPONSE_BYTES: UPSTREAM_UNAVAILABLE like a broker that cannot be reached', async () => {
    mode = 'huge';
    const outcome = await acquire();
    expect(outcome).toBeInstanceOf(GatewayError);
    expect(outcome).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: expect.stringContaining('could not reach the broker') });
  }, 20_000);
});
