import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedGraph, type ScriptedGraph } from '../support/scripted-graph.js';

/**
 * An answer of Graph (or of whatever answers at its address: a TLS-inspecting proxy, a hostile
 * endpoint) is read into memory whole before it is parsed. Before, nothing bounded its size: an
 * endless 200 body was read until the process ran out of memory (the image's heap is 128 MB), and a
 * read was then retried. Now the upstream HTTP layer stops reading past MAX_UPSTREAM_RESPONSE_BYTES
 * (docs/security.md#upstream-answers-are-bounded) and the call fails with UPSTREAM_ERROR, not repeated.
 */
const MB = 2 ** 20;
let scripted: ScriptedGraph;
let written = 0;
let requests = 0;

beforeAll(async () => {
  scripted = await startScriptedGraph((_req, res) => {
    requests += 1;
    written = 0;
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(MB, 0x20);
    res.write('{"id":"u1","displayName":"');
    // Endless, as fast as the reader takes it: stops only when the gateway closes the connection.
    const pump = () => {
      while (!res.destroyed && written < 512 * MB) {
        written += MB;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end('"}');
    };
    res.on('error', () => undefined);
    pump();
  });
});

afterAll(() => scripted.close());

describe('upstream answers are bounded', () => {
  it('stops reading an endless Graph answer past the bound and fails the call once, with UPSTREAM_ERROR', async () => {
    const client = scripted.graphClient({ requestTimeoutMs: 60_000 });
    await expect(client.getUser('u1', ['displayName'])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(requests).toBe(1);
    expect(written).toBeLessThan(128 * MB);
  }, 60_000);
});
