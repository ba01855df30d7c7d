import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

/**
 * `npm run emulator` on its own, as someone pointing another Graph client at it would use it:
 * it prints what to configure, and its CA can be trusted through NODE_EXTRA_CA_CERTS by a
 * separate Node process (read at that process's start).
 */
const run = promisify(execFile);

describe('npm run emulator', () => {
  let child: ChildProcess;
  let output = '';
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-emucli-'));

  beforeAll(async () => {
    const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', EMULATOR_PORT: '0', EMULATOR_DATA_DIR: dataDir, EMULATOR_USERS: '50' };
    child = spawn('npm', ['run', 'emulator', '--silent'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!output.includes('CA file')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`emulator did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 40_000);

  afterAll(() => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints its Graph and login URLs, tenant, demo client id and secret, and CA file', () => {
    expect(output).toMatch(/Graph endpoint\s+https:\/\/127\.0\.0\.1:\d+\s/);
    expect(output).toMatch(/Token endpoint\s+https:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}\/oauth2\/v2\.0\/token/);
    expect(output).toMatch(/Tenant id\s+[0-9a-f-]{36} \(contoso\.example, \d+ users\)/);
    expect(output).toMatch(/Demo client id\s+[0-9a-f-]{36}/);
    expect(output).toMatch(/Demo client secret\s+\S+/);
    expect(output).toContain(path.join(dataDir, 'emulator-ca.pem'));
  });

  it('issues a token and serves Graph to a separate process that trusts its CA via NODE_EXTRA_CA_CERTS', async () => {
    const origin = /Graph endpoint\s+(https:\/\/127\.0\.0\.1:\d+)\s/.exec(output)![1]!;
    const tenant = /Tenant id\s+([0-9a-f-]{36})/.exec(output)![1]!;
    const clientId = /Demo client id\s+([0-9a-f-]{36})/.exec(output)![1]!;
    const secret = /Demo client secret\s+(\S+)/.exec(output)![1]!;
    const script = `
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: ${JSON.stringify(clientId)}, client_secret: process.env.SECRET, scope: ${JSON.stringify(origin + '/.default')} });
      const t = await (await fetch(${JSON.stringify(`${origin}/${tenant}/oauth2/v2.0/token`)}, { method: 'POST', body: form })).json();
      const r = await fetch(${JSON.stringify(`${origin}/v1.0/users?$top=3&$select=id,displayName`)}, { headers: { authorization: 'Bearer ' + t.access_token } });
      const body = await r.json();
      console.log(JSON.stringify({ status: r.status, count: body.value.length }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env['PATH'] ?? '', NODE_EXTRA_CA_CERTS: path.join(dataDir, 'emulator-ca.pem'), SECRET: secret },
      timeout: 20_000,
    });
    expect(JSON.parse(stdout.trim())).toEqual({ status: 200, count: 3 });
  });

  it('is refused by a process that does not trust its CA', async () => {
    const origin = /Graph endpoint\s+(https:\/\/127\.0\.0\.1:\d+)\s/.exec(output)![1]!;
    const script = `fetch(${JSON.stringify(`${origin}/v1.0/users`)}).then(() => console.log('connected'), (e) => console.log('refused', e.cause?.code ?? e.message));`;
    const { stdout } = await run(process.execPath, ['-e', script], { env: { PATH: process.env['PATH'] ?? '' }, timeout: 20_000 });
    expect(stdout).toMatch(/^refused/);
  });

  it('prints a GRAPH_ENDPOINT the gateway accepts, and the gateway also takes it with /v1.0', async () => {
    const graphEndpoint = /GRAPH_ENDPOINT=(\S+)/.exec(output)![1]!;
    expect(graphEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const env = {
      SANDBOX: 'false',
      CALLER_AUTH: 'none',
      HOST: '127.0.0.1',
      PORT: '0',
      AZURE_AUTHORITY_HOST: /AZURE_AUTHORITY_HOST=(\S+)/.exec(output)![1]!,
      AZURE_TENANT_ID: /AZURE_TENANT_ID=(\S+)/.exec(output)![1]!,
      AZURE_CLIENT_ID: /AZURE_CLIENT_ID=(\S+)/.exec(output)![1]!,
      AZURE_CLIENT_SECRET: /Demo client secret\s+(\S+)/.exec(output)![1]!,
      NODE_EXTRA_CA_CERTS: /NODE_EXTRA_CA_CERTS=(\S+) CACHE_URL/.exec(output)![1]!,
      CACHE_URL: 'memory',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
    };
    for (const endpoint of [graphEndpoint, `${graphEndpoint}/v1.0`, `${graphEndpoint}/v1.0/`]) {
      const config = loadConfig({ ...env, GRAPH_ENDPOINT: endpoint });
      expect(config.graphEndpoint).toBe(graphEndpoint);
      const app = await startApp(config);
      try {
        const res = await fetch(`${app.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ users(first: 2) { nodes { id } } }' }),
        });
        const body = (await res.json()) as { data?: { users: { nodes: unknown[] } }; errors?: unknown };
        expect(body.errors, endpoint).toBeUndefined();
        expect(body.data!.users.nodes).toHaveLength(2);
      } finally {
        await app.close();
      }
    }
  }, 60_000);
});
