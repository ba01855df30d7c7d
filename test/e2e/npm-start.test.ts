import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net.js';

describe('npm start with no configuration', () => {
  let child: ChildProcess;
  let base: string;
  let output = '';
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-start-'));

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Only what a user's shell would have: no Azure variables at all.
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    };
    // Its own process group, so the test can signal it the way a terminal's Ctrl-C does.
    child = spawn('npm', ['start', '--silent'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 45_000;
    while (!output.includes('listening on')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gateway did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(() => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints what it started and how to switch to a real tenant', () => {
    expect(output).toContain(`listening on ${base}`);
    expect(output).toMatch(/Sandbox tenant\s+[0-9a-f-]{36}/);
    expect(output).toContain('AZURE_TENANT_ID');
  });

  it('is healthy and ready (a Graph token can be obtained)', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('answers a users query from the sandbox tenant', async () => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 3) { nodes { id displayName } pageInfo { hasNextPage } } }' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { users: { nodes: Array<{ id: string; displayName: string }>; pageInfo: { hasNextPage: boolean } } } };
    expect(body.data.users.nodes).toHaveLength(3);
    expect(body.data.users.nodes[0]!.displayName).toBeTruthy();
    expect(body.data.users.pageInfo.hasNextPage).toBe(true);
  });

  it('serves the playground to a browser on GET /graphql', async () => {
    const res = await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/graphiql/i);
  });

  it('serves Prometheus metrics', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(await res.text()).toContain('gateway_upstream_requests_total');
  });

  it('shuts down cleanly on SIGTERM', async () => {
    // SIGTERM to the whole process group (npm and the gateway), as a terminal or an orchestrator does.
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(-child.pid!, 'SIGTERM');
    const code = await exited;
    expect(code === 0 || code === null).toBe(true);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 20_000);
});
