import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net.js';

/**
 * There is no Docker engine on the machines that run this suite, so the image's build steps are
 * exercised here: the Dockerfile's stages, user and copied paths are checked against the
 * repository, and its build command (`npm run build`) is run and its output started the way the
 * runtime stage starts it (`node dist/src/main.js`, NODE_ENV=production).
 */
const root = path.resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(path.join(root, 'docker/Dockerfile'), 'utf8');
const compose = readFileSync(path.join(root, 'docker/compose.yaml'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const run = promisify(execFile);

describe('docker/Dockerfile', () => {
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({ image: m[1]!, name: m[2] }));

  it('is multi-stage: a build stage and a runtime stage on a Node LTS that the engines field admits', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    for (const stage of stages) expect(stage.image).toMatch(/^node:(20|22|24)[.-]/);
  });

  it('runs as the unprivileged node user in the runtime stage', () => {
    const runtime = dockerfile.slice(dockerfile.search(/^FROM\s+\S+\s+AS\s+runtime/im));
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gim)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
  });

  it('copies only paths that exist and runs npm scripts that exist (the same commands CI runs)', () => {
    for (const m of dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gim)) {
      const parts = m[1]!
        .replace(/--chown=\S+\s*/, '')
        .trim()
        .split(/\s+/);
      for (const source of parts.slice(0, -1)) expect(existsSync(path.join(root, source)), source).toBe(true);
    }
    const npmRuns = [...dockerfile.matchAll(/^RUN\s.*?npm run ([\w:-]+)/gm)].map((m) => m[1]!);
    expect(npmRuns).toContain('build');
    for (const script of npmRuns) expect(pkg.scripts[script], script).toBeDefined();
    expect(readFileSync(path.join(root, '.ci/run'), 'utf8')).toMatch(/npm ci[\s\S]*npm run build/);
    expect(dockerfile).toMatch(/RUN npm ci/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });

  it('compose runs the gateway with Redis and refuses to start without caller auth secrets', () => {
    expect(compose).toMatch(/^\s{2}gateway:/m);
    expect(compose).toMatch(/^\s{2}redis:/m);
    expect(compose).toMatch(/CACHE_URL: redis:\/\/redis:6379/);
    expect(compose).toMatch(/API_KEYS: \$\{API_KEYS:\?/);
    expect(compose).toMatch(/TOKEN_CACHE_KEY: \$\{TOKEN_CACHE_KEY:\?/);
    expect(compose).toMatch(/dockerfile: docker\/Dockerfile/);
  });

  describe('the build stage output, started as the runtime stage starts it', () => {
    let child: ChildProcess | undefined;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-dist-'));
    afterAll(() => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('npm run build produces dist/src/main.js, which in production serves the sandbox only when SANDBOX=true', async () => {
      await run('npm', ['run', 'build', '--silent'], { cwd: root, timeout: 180_000 });
      expect(existsSync(path.join(root, 'dist/src/main.js'))).toBe(true);
      // A production container whose Azure variables came out empty (compose's `${AZURE_TENANT_ID:-}`)
      // must stop with a message, not quietly serve the emulator tenant.
      const empty = {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'production',
        HOST: '0.0.0.0',
        DATA_DIR: dataDir,
        AZURE_TENANT_ID: '',
        AZURE_CLIENT_ID: '',
        AZURE_CLIENT_SECRET: '',
        SANDBOX: '',
      };
      const refused = await run(process.execPath, ['dist/src/main.js'], { cwd: root, env: empty, timeout: 30_000 }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }),
      );
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/NODE_ENV=production never starts the sandbox/);
      expect(refused.stderr).toContain('SANDBOX=true');

      const port = await freePort();
      const env = {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'production',
        SANDBOX: 'true',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      };
      child = spawn(process.execPath, ['dist/src/main.js'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const deadline = Date.now() + 30_000;
      while (!output.includes('listening on')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`dist build did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ users(first: 2) { nodes { displayName } } }' }),
      });
      const body = (await res.json()) as { data: { users: { nodes: unknown[] } } };
      expect(body.data.users.nodes).toHaveLength(2);
      // Production defaults: introspection is off.
      const introspection = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __schema { types { name } } }' }),
      });
      const introspectionBody = (await introspection.json()) as { errors?: unknown[] };
      expect(introspectionBody.errors?.length).toBeGreaterThan(0);
      // ... and so is the published SDL, which carries the same information.
      expect((await fetch(`${base}/schema.graphql`)).status).toBe(404);
    }, 240_000);
  });
});
