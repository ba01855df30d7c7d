import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config.js';
import { startProductionGateway, type GatewayProcess } from '../support/gateway-process.js';
import { rawExchange } from '../support/raw-http.js';

/**
 * Requests pipelined on one connection are served one at a time, a bounded number of them waiting
 * (docs/security.md#pipelined-requests).
 *
 * Before: Node handed every request it parsed to the gateway at once and kept each answer until the
 * earlier ones were written. One connection holding no credential that wrote 100,000 `GET /readyz`
 * (3.3 MB) and read nothing made the production build with the image's 128 MB heap abort ("JavaScript
 * heap out of memory") within seconds; so did 100,000 `GET /metrics` (on PORT when METRICS_PORT is not
 * set), and 6,000 `GET /graphql` queries of a key holding only `Users.Read`. MAX_CONNECTIONS_PER_ADDRESS
 * counts connections, not the requests inside one.
 */
const KEY = 'reader-key-0123456789abcdef';

describe('pipelined requests (production build, 128 MB heap)', () => {
  let gw: GatewayProcess;
  let port: number;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-pipeline-'));

  beforeAll(async () => {
    gw = await startProductionGateway({
      dataDir,
      nodeArgs: ['--max-old-space-size=128'],
      env: {
        SANDBOX_USERS: '100',
        CALLER_AUTH: 'api-key',
        API_KEYS: `reader:${hashApiKey(KEY)}:Users.Read`,
        LOG_LEVEL: 'warn',
      },
    });
    port = Number(new URL(gw.url).port);
  }, 240_000);

  afterAll(() => {
    gw?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Writes `request` `count` times in one go on a connection that reads nothing; the caller destroys it. */
  const flood = (request: string, count: number): net.Socket => {
    const socket = net.connect(port, '127.0.0.1');
    socket.pause();
    socket.on('error', () => undefined);
    socket.write(request.repeat(count));
    return socket;
  };

  const pipelinedRefusals = async (): Promise<number> => {
    const text = await (await fetch(`${gw.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    return Number(/^gateway_connections_refused_total\{reason="pipelined_requests"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };

  const servedToOthers = async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(200);
  };

  it.each([
    ['a stranger', '/readyz', {}],
    ['a stranger', '/metrics', {}],
    [
      'a Users.Read key',
      '/graphql?query=%7B%20users(first%3A%20100)%20%7B%20nodes%20%7B%20id%20displayName%20%7D%20%7D%20%7D',
      { 'x-api-key': KEY, 'apollo-require-preflight': '1' },
    ],
  ] as const)(
    '%s pipelining %s on one connection that reads nothing is cut off; the process lives',
    async (_who, target, headers) => {
      const before = await pipelinedRefusals();
      const head = Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      const request = `GET ${target} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${head}\r\n`;
      const socket = flood(request, Math.floor(8_000_000 / request.length));
      try {
        // The connection is closed once it has more waiting than the bound, and counted once.
        const deadline = Date.now() + 20_000;
        while ((await pipelinedRefusals()) === before && Date.now() < deadline && gw.child.exitCode === null) await new Promise((r) => setTimeout(r, 250));
        // Give the rest of what it sent time to do harm, were it still read.
        await new Promise((r) => setTimeout(r, 3_000));
        expect(gw.child.exitCode, gw.output().slice(-2_000)).toBeNull();
        expect((await pipelinedRefusals()) - before).toBe(1);
      } finally {
        socket.destroy();
      }
      await servedToOthers();
      expect(gw.child.exitCode).toBeNull();
    },
    60_000,
  );

  it('requests waiting on a connection the caller closed are never run', async () => {
    const operations = async () => {
      const text = await (await fetch(`${gw.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      return [...text.matchAll(/^gateway_operation_duration_seconds_count\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    const before = await operations();
    const query = encodeURIComponent('{ users(first: 100) { nodes { id displayName manager { id } } } }');
    const request = `GET /graphql?query=${query} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-api-key: ${KEY}\r\napollo-require-preflight: 1\r\n\r\n`;
    // Graph answers slowly, so the first is still running when the caller goes.
    await gw.setEmulatorFaults({ latencyMs: 1_500 });
    try {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(request.repeat(4));
      await new Promise((r) => setTimeout(r, 300));
      socket.destroy();
      // The first was stopped; the three behind it were not started for nobody.
      await new Promise((r) => setTimeout(r, 5_000));
    } finally {
      await gw.setEmulatorFaults({ latencyMs: 0 });
    }
    expect((await operations()) - before).toBe(1);
  }, 30_000);

  it('a client pipelining a few requests gets every answer, in order', async () => {
    const graphql = `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-api-key: ${KEY}\r\napollo-require-preflight: 1\r\n\r\n`;
    const readyz = `GET /readyz HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`;
    const last = `GET /nope HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\n\r\n`;
    const received = await rawExchange(port, readyz + graphql + readyz + graphql + last, { timeoutMs: 15_000 });
    const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([200, 200, 200, 200, 404]);
    const bodies = [...received.matchAll(/\{"(status|data)"/g)].map((m) => m[1]);
    expect(bodies).toEqual(['status', 'data', 'status', 'data']);
  }, 30_000);
});
