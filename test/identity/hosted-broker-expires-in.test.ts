import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config-types.js';
import { createGraphIdentity } from '../../src/identity/index.js';
import { BROKER_EXPIRES_IN_RANGE } from '../../src/identity/hosted-broker.js';
import { logRecordsOf } from '../support/log-capture.js';
import { emulatorConfig, startIdentityTestBed, type IdentityTestBed } from './support.js';

/**
 * The broker's `expires_in` is held to BROKER_EXPIRES_IN_RANGE (docs/identity.md#hosted-broker).
 * Before, a negative value made the token held always expired, so every request fetched a new one
 * from the broker; `Infinity` (the JSON text "Infinity", or 1e400) kept it until Graph refused it.
 * The out-of-range value is said once per process.
 */
let bed: IdentityTestBed;
let broker: Server;
let brokerUrl = '';
let expiresIn: unknown = 3599;
let answered = 0;

beforeAll(async () => {
  bed = await startIdentityTestBed('mgug-broker-expires-in-');
  broker = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      answered += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      // Raw JSON text, so that 1e400 arrives as written.
      res.end(`{"access_token":"broker-access-token-${answered}","expires_in":${typeof expiresIn === 'string' ? expiresIn : JSON.stringify(expiresIn)}}`);
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

async function identityAt(clock: { t: number }) {
  const config = emulatorConfig(bed.emulator, bed.dataDir, {
    deploymentMode: 'hosted',
    hosted: { brokerUrl, registrationId: 'reg-0123', token: new Secret('reg-token'), key: new Secret(randomBytes(32).toString('base64')) },
    cache: { kind: 'memory' },
  });
  return createGraphIdentity(config, { ...bed.deps, now: () => clock.t });
}

const clampedLines = () => logRecordsOf(bed.logs.lines).filter((r) => typeof r.msg === 'string' && r.msg.includes("the broker's expires_in is outside"));

describe("the hosted broker's expires_in", () => {
  it('negative: the token is kept a minute, not fetched again for every request; said once', async () => {
    expiresIn = -5;
    answered = 0;
    const before = clampedLines().length;
    const clock = { t: Date.now() };
    await createAndUse(clock, async (source) => {
      for (let i = 0; i < 5; i += 1) await source.getAccessToken();
      expect(answered).toBe(1);
      // A minute later it is renewed (and said no more).
      clock.t += BROKER_EXPIRES_IN_RANGE.minSeconds * 1000;
      await source.getAccessToken();
      expect(answered).toBe(2);
    });
    const lines = clampedLines().slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', expiresIn: '-5', usedSeconds: BROKER_EXPIRES_IN_RANGE.minSeconds });
  });

  for (const text of ['"Infinity"', '1e400']) {
    it(`${text}: the token is renewed after a day, not kept until Graph refuses it`, async () => {
      expiresIn = text;
      answered = 0;
      const clock = { t: Date.now() };
      await createAndUse(clock, async (source) => {
        await source.getAccessToken();
        clock.t += 23 * 3600_000;
        await source.getAccessToken();
        expect(answered).toBe(1);
        clock.t += 3600_000;
        await source.getAccessToken();
        expect(answered).toBe(2);
      });
    });
  }

  it('within the range: used as given, nothing said', async () => {
    expiresIn = '3599';
    answered = 0;
    const before = clampedLines().length;
    const clock = { t: Date.now() };
    await createAndUse(clock, async (source) => {
      await source.getAccessToken();
      clock.t += 3000_000;
      await source.getAccessToken();
      expect(answered).toBe(1);
    });
    expect(clampedLines().length).toBe(before);
  });
});

async function createAndUse(clock: { t: number }, use: (source: { getAccessToken(): Promise<string> }) => Promise<void>): Promise<void> {
  const identity = await identityAt(clock);
  try {
    await use(identity.tokenSourceFor({ kind: 'anonymous', permissions: new Set() }));
  } finally {
    await identity.close?.();
  }
}
