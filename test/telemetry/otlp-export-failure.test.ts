import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';

/**
 * A collector that refuses the spans: the gateway logs one warning whose text is the collector's
 * (the HTTP reason phrase, which the OTLP exporter makes its error message). That text is another
 * service's, so the warning carries it printable and without the OTLP header values the gateway
 * sent (a collector that echoes the key it was given must not put it in the gateway's log).
 */
/** A collector credential of 32 hex digits: short of the 40 characters that make any string look like a token. */
const BEARER_TOKEN = '5f0c2a9e7b3d4e1f8a6c0b2d4e6f8a1c';

describe('a collector that refuses the spans', () => {
  let emulator: TestEmulator;
  let collector: Server;
  let refusals = 0;
  const logLines: string[] = [];
  let app: App;

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 5 });
    collector = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        refusals += 1;
        // Node allows obs-text (0x80-0xff) in a reason phrase: here a C1 "next line" (U+0085).
        // And the credential of a `Bearer` header value alone, too short to look like a token.
        res.writeHead(400, `refused key s3cr3t value\u0085{"level":60,"msg":"forged"} token ${BEARER_TOKEN}`, { 'content-type': 'text/plain' });
        res.end('no');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      CALLER_AUTH: 'api-key',
      API_KEYS: 'otlp:0000000000000000000000000000000000000000000000000000000000000000:Users.Read',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_HEADERS: `x-collector-key=s3cr3t%20value,authorization=Bearer%20${BEARER_TOKEN}`,
    });
    app = await startApp(config, { emulator, logger: capturingLogger(logLines, 'info') });
  }, 60_000);
  afterAll(async () => {
    await emulator?.close();
    await new Promise((resolve) => collector?.close(resolve));
  });

  it('logs warnings with the collector text made printable, the header value removed and no stack', { timeout: 30_000 }, async () => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'not-the-key' },
      body: JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }),
    });
    expect(res.status).toBe(401);
    // While running, the batch processor's scheduled export (every 5 s) fails through the SDK's
    // error handler; then the stopping gateway's last export fails through the shutdown.
    await expect.poll(() => logLines.some((l) => l.includes('spans could not be exported')), { timeout: 15_000, interval: 100 }).toBe(true);
    await app.close();

    expect(refusals).toBeGreaterThan(0);
    const warnings = logRecordsOf(logLines).filter((l) => l.msg?.startsWith('OpenTelemetry:') && l.err !== undefined);
    expect(warnings.map((w) => w.msg)).toContain('OpenTelemetry: spans could not be exported (further failures within a minute are not logged)');
    for (const warning of warnings) {
      const message = warning.err?.message ?? '';
      expect(message).toContain('refused key');
      expect(message).toContain('[redacted]');
      // eslint-disable-next-line no-control-regex -- the control characters are what is looked for
      expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      // pino's error serializer writes an empty stack for a summary that is not an Error.
      expect(warning.err?.stack ?? '').toBe('');
    }
    expect(logLines.join('\n')).not.toContain('s3cr3t');
    expect(logLines.join('\n')).not.toContain(BEARER_TOKEN);
  });
});
