import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphClient } from '../../src/graph/client.js';
import type { GraphTokenSource } from '../../src/identity/types.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { startScriptedGraph, type ScriptedGraph } from '../support/scripted-graph.js';

/**
 * The Graph bearer token goes to Graph's origin only (docs/security.md#upstream-redirects-are-not-followed):
 * an answer redirecting to another host is an answer, not a new address. Graph calls go through
 * undici's `request`, which follows no redirect; this keeps it so.
 */
let scripted: ScriptedGraph;
let elsewhere: Server;
let elsewhereOrigin = '';
const seenElsewhere: Array<string | undefined> = [];

beforeAll(async () => {
  elsewhere = createServer((req, res) => {
    seenElsewhere.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'from-elsewhere' }));
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  elsewhereOrigin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  scripted = await startScriptedGraph((_req, res) => {
    res.writeHead(307, { location: `${elsewhereOrigin}/v1.0/users/u1` });
    res.end();
  });
});

afterAll(async () => {
  await scripted.close();
  await new Promise((resolve) => elsewhere.close(resolve));
});

describe('Graph redirects', () => {
  it('a Graph answer redirecting to another host: the bearer token is not sent there', async () => {
    const tokenSource: GraphTokenSource = { partition: 'test', getAccessToken: async () => 'secret-token', invalidate: () => undefined };
    const client = createGraphClient({
      upstream: scripted.upstream,
      tokenSource,
      graphEndpoint: scripted.origin,
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics({ defaultMetrics: false }),
      correlationId: 'corr-1',
      requestTimeoutMs: 5_000,
      retry: { random: () => 0.5, sleep: async () => undefined },
    });
    await expect(client.getUser('u1', ['displayName'])).rejects.toMatchObject({ code: expect.stringMatching(/^UPSTREAM_/) });
    expect(seenElsewhere).toEqual([]);
  });
});
