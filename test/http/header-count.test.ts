import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { rawExchange } from '../support/raw-http.js';
import { GOOD_KEY as KEY, startKeyGuardedGateway } from '../support/key-guarded-gateway.js';

/**
 * A request of more header lines than the gateway keeps is refused whole, never served by the lines
 * kept (docs/security.md#one-host-one-content-type).
 *
 * Before: Node kept the first 2,000 header lines of a request (`maxHeadersCount`) and dropped the
 * rest silently; 2,000 lines `a:` take 8 KB of the 16 KB allowed. A second `Host` or a second
 * credential written after them was never seen by the gateway's checks: the request was served (200)
 * by the first, while a proxy in front that reads the last judged it by the other.
 */
const FILLER = 'a:\r\n'.repeat(2_000);

describe('header lines past what the gateway keeps', () => {
  let gw: TestGateway;
  let port: number;
  beforeAll(async () => {
    gw = await startKeyGuardedGateway();
    port = Number(new URL(gw.url).port);
  }, 60_000);
  afterAll(() => gw.close());

  const statusAndReason = (raw: string) => ({
    status: Number(raw.slice(0, 12).split(' ')[1]),
    reason: /"reason":"([A-Z_]+)"/.exec(raw)?.[1],
  });

  it('a second Host after 2,000 header lines → 431 HEADERS_TOO_LARGE, not served', async () => {
    const raw = await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${FILLER}Host: evil.example\r\nConnection: close\r\n\r\n`);
    expect(statusAndReason(raw)).toEqual({ status: 431, reason: 'HEADERS_TOO_LARGE' });
  });

  it('a second credential after 2,000 header lines → 431 HEADERS_TOO_LARGE, not served by the first', async () => {
    const raw = await rawExchange(
      port,
      `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\napollo-require-preflight: 1\r\nx-api-key: ${KEY}\r\n${FILLER}` +
        'Authorization: ApiKey another-key-0123456789\r\nConnection: close\r\n\r\n',
    );
    expect(statusAndReason(raw)).toEqual({ status: 431, reason: 'HEADERS_TOO_LARGE' });
    expect(raw).not.toContain('__typename');
  });

  it('256 header lines are served, 257 are not; a second Host within them is still DUPLICATE_HEADER', async () => {
    const request = (lines: number, last = 'Connection: close') =>
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${'a:\r\n'.repeat(lines - 2)}${last}\r\n\r\n`;
    expect(statusAndReason(await rawExchange(port, request(256))).status).toBe(200);
    expect(statusAndReason(await rawExchange(port, request(257)))).toEqual({ status: 431, reason: 'HEADERS_TOO_LARGE' });
    expect(statusAndReason(await rawExchange(port, request(200, 'Host: evil.example')))).toEqual({ status: 400, reason: 'DUPLICATE_HEADER' });
  });
});
