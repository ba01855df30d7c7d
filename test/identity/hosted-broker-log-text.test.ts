import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config-types.js';
import { describeTokenFailure } from '../../src/doctor/acquire-token.js';
import { GatewayError } from '../../src/errors.js';
import { createGraphIdentity } from '../../src/identity/index.js';
import { emulatorConfig, startIdentityTestBed, type IdentityTestBed } from './support.js';

/**
 * The hosted broker's refusal text reaches the gateway's `warn` line (docs/security.md): a broker
 * answering with control characters, line separators and bidirectional overrides must not forge
 * log lines, steer a terminal or make the line read as something it does not say, and its length
 * is bounded. A stand-in broker on loopback answers each request with such a text; the registration
 * token it quotes (whole, and split by an override) is still scrubbed.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;
const TOKEN = `reg-token-${randomBytes(12).toString('hex')}`;

let bed: IdentityTestBed;
let broker: Server;
let brokerUrl = '';
let detail = '';

beforeAll(async () => {
  bed = await startIdentityTestBed('mgug-broker-text-');
  broker = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail }));
    });
  });
  await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
  brokerUrl = `http://127.0.0.1:${(broker.address() as AddressInfo).port}/broker/obtain-token`;
});

afterAll(async () => {
  await new Promise((resolve) => broker?.close(resolve));
  await bed?.close();
});

async function refusalLineFor(text: string): Promise<{ raw: string; brokerMessage: string; error: GatewayError }> {
  detail = text;
  const config = emulatorConfig(bed.emulator, bed.dataDir, {
    deploymentMode: 'hosted',
    hosted: { brokerUrl, registrationId: 'reg-0123', token: new Secret(TOKEN), key: new Secret(randomBytes(32).toString('base64')) },
    cache: { kind: 'memory' },
  });
  const identity = await createGraphIdentity(config, bed.deps);
  const before = bed.logs.lines.length;
  const error = (await identity
    .tokenSourceFor({ kind: 'anonymous', permissions: new Set() })
    .getAccessToken()
    .catch((e: unknown) => e)) as GatewayError;
  await identity.close?.();
  const raw = bed.logs.lines.slice(before).find((line) => line.includes('the hosted broker refused the token request'));
  expect(raw, 'the refusal line').toBeDefined();
  return { raw: raw!, brokerMessage: (JSON.parse(raw!) as { brokerMessage: string }).brokerMessage, error };
}

describe("the hosted broker's text in the gateway's log", () => {
  it('holds no control character, line separator or bidi override, and is bounded', async () => {
    const hostile =
      'No registration \u202Egnp.exe\u202C with id\n{"level":"error","msg":"forged line"}\r\u001b[31mred\u001b[0m\u0007 \u0085next\u2028line\u2029para ' +
      '\u2066isolated\u2069 \u200Fmark\u061C ' +
      'and so on '.repeat(500);
    const { raw, brokerMessage, error } = await refusalLineFor(hostile);
    expect(error).toBeInstanceOf(GatewayError);
    expect(brokerMessage).not.toMatch(UNPRINTABLE);
    // The raw line too: JSON escapes C0 controls but writes U+2028, U+2029 and the overrides as they are.
    expect(raw.trimEnd()).not.toMatch(UNPRINTABLE);
    expect(brokerMessage).toMatch(
      /^No registration gnp\.exe with id \{"level":"error","msg":"forged line"\} \[31mred \[0m next line para isolated mark (and so on )+[a-z ]*…$/,
    );
    expect(Array.from(brokerMessage).length).toBeLessThanOrEqual(301);
    // What the doctor prints (the error's cause) is the same safe text.
    const printed = describeTokenFailure('hosted-broker', error, []);
    expect(printed).toContain('The broker said: No registration gnp.exe with id');
    // eslint-disable-next-line no-control-regex
    expect(printed).not.toMatch(/[\u2028\u2029\u202a-\u202e\u2066-\u2069\u001b\u0007]/);
  });

  it('still scrubs the registration token, also when an override splits it', async () => {
    const split = `${TOKEN.slice(0, 12)}\u202E${TOKEN.slice(12)}`;
    const { raw, brokerMessage } = await refusalLineFor(`bad token ${TOKEN}; again ${split}.`);
    expect(raw).not.toContain(TOKEN);
    expect(brokerMessage).toContain('bad token [redacted]');
    expect(brokerMessage).not.toMatch(UNPRINTABLE);
    bed.logs.assertNoSecrets([TOKEN]);
  });

  it('scrubs the registration token in any letter case (a tenant id GUID, which Entra writes in lower case)', async () => {
    // BROKER_TOKEN is the tenant id; a broker quoting it as Entra writes GUIDs does not match the
    // operator's upper-case copy letter for letter, and was logged as it came.
    const { raw, brokerMessage } = await refusalLineFor(`tenant ${TOKEN.toUpperCase()} is not served`);
    expect(brokerMessage).toBe('tenant [redacted] is not served');
    expect(raw.toLowerCase()).not.toContain(TOKEN.toLowerCase());
  });
});
