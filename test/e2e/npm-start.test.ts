import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
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
      LOG_LEVEL: 'info',
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
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the whole group has exited
    }
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

  it('drains on SIGTERM sent to npm (as a supervisor sends it): the in-flight query is answered, exit 0, nothing left running', async () => {
    // Graph slowed down by the sandbox emulator, so the query is still waiting when the signal comes.
    const origin = /emulator at (https:\/\/\S+)/.exec(output)![1]!;
    const dispatcher = new Agent({ connect: { ca: readFileSync(path.join(dataDir, 'emulator', 'emulator-ca.pem'), 'utf8') } });
    const faults = await undiciFetch(`${origin}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ latencyMs: 1_200 }), dispatcher });
    expect(faults.status).toBe(200);
    await dispatcher.close();

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const query = fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 2) { nodes { id } } }' }),
    });
    await new Promise((r) => setTimeout(r, 300));
    // npm's pid only: npm forwards the signal to its child, which must be node itself (the start
    // script execs it; an intermediate `sh` would die and leave node running).
    process.kill(child.pid!, 'SIGTERM');
    const res = await query;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { users: { nodes: unknown[] } } }).data.users.nodes).toHaveLength(2);
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(output).toContain('"msg":"stopped"');
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 20_000);
});
