import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { freePort } from '../support/net.js';
import { buildProduction, DIST_MAIN, REPO_ROOT } from '../support/production-build.js';

/**
 * What one caller can make the gateway keep in memory. The production build runs with the image's
 * heap cap (`--max-old-space-size=128`, docker/Dockerfile) and a key holding only `Users.Read`.
 *
 * Before: Apollo's cache of parsed documents was bounded by the documents' JSON size, which leaves
 * out the source text a parsed document keeps (comments included; they are not tokens, so
 * MAX_TOKENS does not stop them). ~110 requests of `{ __typename } # <900 KB of comment>`, each
 * different, exhausted the heap and the process aborted. Automatic persisted queries kept every
 * registered query text in a second such cache. Now the store counts what a document holds
 * (src/graphql/document-store.ts) and persisted queries are off.
 */
const KEY = 'reader-key-0123456789abcdef';
const COMMENT = 'x'.repeat(900_000);

describe('memory one caller can pin (production build, 128 MB heap)', () => {
  let gw: GatewayProcess;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-memory-'));

  beforeAll(async () => {
    await buildProduction();
    const port = await freePort();
    gw = await startGatewayProcess({
      command: process.execPath,
      args: ['--max-old-space-size=128', DIST_MAIN],
      cwd: REPO_ROOT,
      port,
      env: {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'production',
        SANDBOX: 'true',
        SANDBOX_USERS: '20',
        CALLER_AUTH: 'api-key',
        API_KEYS: `reader:${hashApiKey(KEY)}:Users.Read`,
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      },
    });
  }, 240_000);

  afterAll(() => {
    gw?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (body: unknown) =>
    fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify(body) });
  const heapUsedMb = async () => {
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    return Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(metrics)?.[1]) / 2 ** 20;
  };

  it('serves 250 different documents of 900 KB each (a comment) without growing: the document cache counts what they hold', async () => {
    for (let i = 0; i < 250; i++) {
      const res = await post({ query: `{ __typename } # ${i} ${COMMENT}` });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
    }
    expect(gw.child.exitCode).toBeNull();
    // ~40–55 MB in use at rest; the document cache adds at most 16 MB of estimated size.
    expect(await heapUsedMb()).toBeLessThan(100);
    // And the cache still serves: a document seen before is answered as before.
    expect((await post({ query: '{ __typename }' })).status).toBe(200);
  }, 240_000);

  it('refuses automatic persisted queries with the protocol’s PERSISTED_QUERY_NOT_SUPPORTED (clients then send the text)', async () => {
    const hash = 'ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38'; // sha256 of '{ __typename }'
    const res = await post({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    const body = (await res.json()) as { errors?: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(body.errors?.[0]?.message).toBe('PersistedQueryNotSupported');
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PERSISTED_QUERY_NOT_SUPPORTED' });
  });
});
