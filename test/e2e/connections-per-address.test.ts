import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config.js';
import { startProductionGateway, type GatewayProcess } from '../support/gateway-process.js';

/**
 * One address must not take every connection of the gateway (docs/security.md#connections-per-address).
 *
 * Before: only MAX_CONNECTIONS (10,000 by default) bounded open connections, for everyone together.
 * One host without any credential opened that many connections, each sending part of its headers
 * and re-opening when the 10 s headers timeout closed it: every other client's connection was then
 * closed on arrival, so the whole gateway was unreachable from one address. Now a TCP peer holds at
 * most MAX_CONNECTIONS_PER_ADDRESS of them (an IPv6 peer by its /64); the peers in TRUSTED_PROXIES,
 * which carry every client, are bounded by MAX_CONNECTIONS alone.
 *
 * Linux routes all of 127.0.0.0/8 to loopback, so 127.0.0.2 and 127.0.0.3 are other hosts here.
 */
const KEY = 'reader-key-0123456789abcdef';

describe('connections per address (production build)', () => {
  let gw: GatewayProcess;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-conn-'));

  beforeAll(async () => {
    gw = await startProductionGateway({
      dataDir,
      env: {
        SANDBOX_USERS: '10',
        CALLER_AUTH: 'api-key',
        API_KEYS: `reader:${hashApiKey(KEY)}:Users.Read`,
        LOG_LEVEL: 'warn',
        MAX_CONNECTIONS: '100',
        MAX_CONNECTIONS_PER_ADDRESS: '20',
        TRUSTED_PROXIES: '127.0.0.3',
      },
    });
  }, 240_000);

  afterAll(() => {
    gw?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** `count` connections from `localAddress`, each trickling part of its headers; the caller destroys them. */
  const slowHeaders = (count: number, localAddress: string) => {
    const port = Number(new URL(gw.url).port);
    const sockets: Array<{ socket: net.Socket; closed: boolean }> = [];
    for (let i = 0; i < count; i++) {
      const entry = { socket: net.connect({ port, host: '127.0.0.1', localAddress }), closed: false };
      entry.socket.on('error', () => undefined);
      entry.socket.resume();
      entry.socket.on('close', () => (entry.closed = true));
      entry.socket.write(`POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-pad: aaaa`);
      sockets.push(entry);
    }
    return sockets;
  };

  it('a stranger holding connections from one address leaves the gateway reachable for everyone else', async () => {
    const attacker = slowHeaders(150, '127.0.0.2');
    try {
      await new Promise((r) => setTimeout(r, 1_500));
      // Its connections past the per-address cap were closed on arrival.
      expect(attacker.filter((s) => !s.closed).length).toBeLessThanOrEqual(20);
      // Another client is served at once.
      const res = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        body: JSON.stringify({ query: '{ users(first: 1) { edges { node { id } } } }' }),
        signal: AbortSignal.timeout(5_000),
      });
      expect(res.status).toBe(200);
    } finally {
      for (const { socket } of attacker) socket.destroy();
    }
    expect(gw.child.exitCode).toBeNull();
  }, 30_000);

  it('a trusted proxy carries every client: its connections are bounded by MAX_CONNECTIONS only', async () => {
    const proxy = slowHeaders(60, '127.0.0.3');
    try {
      await new Promise((r) => setTimeout(r, 1_500));
      expect(proxy.filter((s) => !s.closed).length).toBe(60);
    } finally {
      for (const { socket } of proxy) socket.destroy();
    }
  }, 30_000);
});
