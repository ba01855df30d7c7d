import { Writable } from 'node:stream';
import { LogLevel } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { createMsalLoggerOptions } from '../../src/identity/msal-logger.js';
import { createLogger } from '../../src/logger.js';

/**
 * msal's own log lines can quote what Entra answered. They reach the log as upstream text
 * (src/identity/msal-logger.ts): no bidi or control characters that steer a viewer, a secret split
 * by one of them still removed, bounded. The real pino logger writes to an in-memory stream.
 */
function msalLog(secrets: string[]) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const options = createMsalLoggerOptions(createLogger({ level: 'trace', destination }), secrets);
  return { log: (level: LogLevel, message: string, containsPii = false) => options.loggerCallback!(level, message, containsPii), lines };
}

describe('msal log lines', () => {
  it('are one printable line, scrubbed of a secret, with a secret split by a bidi override left split, and bounded', () => {
    const secret = 'client-secret-value-1234';
    const { log, lines } = msalLog([secret]);
    log(LogLevel.Error, `AADSTS7000215: Invalid client secret\u2028provided: client-secret-\u202evalue-1234 and ${secret}\u001b[2J done`);
    log(LogLevel.Warning, 'x'.repeat(5_000));
    const [first, second] = lines.map((l) => String(l.msg));
    for (const steering of ['\u2028', '\u202e', '\u001b']) expect(first).not.toContain(steering);
    expect(first).not.toContain(secret);
    // The override became a space: the split value is not joined back into the secret.
    expect(first).toContain('client-secret- value-1234');
    expect(first).toContain('AADSTS7000215: Invalid client secret provided');
    expect(Array.from(second!).length).toBeLessThanOrEqual(2_001);
    expect(lines.map((l) => l.level)).toEqual(['error', 'warn']);
  });

  it('drops lines msal marks as holding personal data', () => {
    const { log, lines } = msalLog([]);
    log(LogLevel.Info, 'token for user@contoso.example', true);
    log(LogLevel.Info, 'no personal data');
    expect(lines.map((l) => l.msg)).toEqual(['no personal data']);
  });
});
