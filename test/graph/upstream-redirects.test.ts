import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedGraph, type ScriptedGraph } from '../support/scripted-graph.js';

/**
 * The Graph bearer token goes to Graph's origin only (docs/security.md#upstream-redirects-are-not-followed):
 * an answer redirecting to another host is an answer, not a new address. Graph calls go through
 * undici's `request`, which follows no redirect; this keeps it so.
 */
let scripted: ScriptedGraph;
/** The other host the redirect names: it records the Authorization header of whatever reaches it. */
let elsewhere: ScriptedGraph;
const seenElsewhere: Array<string | undefined> = [];

beforeAll(async () => {
  elsewhere = await startScriptedGraph((req, res) => {
    seenElsewhere.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'from-elsewhere' }));
  });
  scripted = await startScriptedGraph((_req, res) => {
    res.writeHead(307, { location: `${elsewhere.origin}/v1.0/users/u1` });
    res.end();
  });
});

afterAll(async () => {
  await scripted.close();
  await elsewhere.close();
});

describe('Graph redirects', () => {
  it('a Graph answer redirecting to another host: the bearer token is not sent there', async () => {
    const client = scripted.graphClient({ requestTimeoutMs: 5_000 });
    await expect(client.getUser('u1', ['displayName'])).rejects.toMatchObject({ code: expect.stringMatching(/^UPSTREAM_/) });
    expect(seenElsewhere).toEqual([]);
  });
});
