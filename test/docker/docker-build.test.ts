import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { hashApiKey, loadConfig } from '../../src/config.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../../src/gateway.js';
import { freePort } from '../support/net.js';
import { buildProduction } from '../support/production-build.js';

/**
 * There is no Docker engine on the machines that run this suite, so the image's build steps are
 * exercised here: the Dockerfile's stages, user and copied paths are checked against the
 * repository, and its build command (`npm run build`) is run and its output started the way the
 * runtime stage starts it (`node dist/src/main.js`, NODE_ENV=production).
 */
const root = path.resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(path.join(root, 'docker/Dockerfile'), 'utf8');
const compose = readFileSync(path.join(root, 'docker/compose.yaml'), 'utf8');
const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const runtimeStage = dockerfile.slice(dockerfile.search(/^FROM\s+\S+\s+AS\s+runtime/im));
/** The runtime stage's own ENV (NODE_ENV, PORT, METRICS_PORT, NODE_OPTIONS...). */
const imageEnv: Record<string, string> = Object.fromEntries(
  [...(/^ENV\s+([\s\S]*?)(?<!\\)\n/m.exec(runtimeStage)?.[1] ?? '').matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
);

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

  it('gives the runtime user nothing but DATA_DIR: the application it copies is owned by root and writable by nobody else', () => {
    const runtime = dockerfile.slice(dockerfile.search(/^FROM\s+\S+\s+AS\s+runtime/im));
    const copies = [...runtime.matchAll(/^COPY\s+(.+)$/gim)].map((m) => m[1]!);
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      // Without --chown a COPY --from keeps the build stage's owner; name root so nothing depends on that.
      expect(copy, copy).toMatch(/--chown=(root|0)(:(root|0))?\s/);
      expect(copy, copy).not.toMatch(/--chmod=/);
    }
    // Whatever modes a package shipped with: no group or other write bit on what the runtime copies.
    const build = dockerfile.slice(0, dockerfile.search(/^FROM\s+\S+\s+AS\s+runtime/im));
    const copied = copies.map((c) => /--from=build\s+(?:--chown=\S+\s+)?\/app\/(\S+)/.exec(c)?.[1]);
    const chmod = /^RUN chmod -R go-w (.+)$/m.exec(build)?.[1]?.split(/\s+/);
    expect(chmod, 'RUN chmod -R go-w in the build stage').toBeDefined();
    for (const source of copied) expect(chmod, source).toContain(source);
    // The one thing the node user owns is DATA_DIR, and nothing runs as root after USER node.
    const dataDir = /DATA_DIR=(\S+)/.exec(runtime)?.[1];
    expect(dataDir).toBe('/data');
    const chowns = [...runtime.matchAll(/chown\s+(?:-\S+\s+)*(\S+)\s+(\S+)/g)].map((m) => ({ owner: m[1], target: m[2] }));
    expect(chowns).toEqual([{ owner: 'node:node', target: dataDir }]);
    expect(runtime.slice(runtime.search(/^USER node$/m))).not.toMatch(/^(RUN|COPY|ADD)\s/m);
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

  it('runs node itself as PID 1 (exec form, no npm, no shell) and stops it with SIGTERM', () => {
    const runtime = dockerfile.slice(dockerfile.search(/^FROM\s+\S+\s+AS\s+runtime/im));
    const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(runtime);
    expect(cmd, 'CMD in exec (JSON) form').not.toBeNull();
    expect(JSON.parse(cmd![1]!)).toEqual(['node', 'dist/src/main.js']);
    expect(runtime).not.toMatch(/^ENTRYPOINT/m);
    expect(runtime).toMatch(/^STOPSIGNAL SIGTERM$/m);
    // The same entry point as `npm run start:prod`, which execs node so npm forwards signals to it.
    expect(pkg.scripts['start:prod']).toBe('exec node dist/src/main.js');
  });

  it('serves /metrics on a port of its own (METRICS_PORT), exposed beside PORT: the main port answers 404 for it', () => {
    // Without METRICS_PORT, /metrics (no credential) was served on PORT, on every interface of the container.
    expect(imageEnv['PORT']).toBe('4000');
    expect(imageEnv['METRICS_PORT']).toBe('9464');
    const exposed = /^EXPOSE\s+(.+)$/m.exec(runtimeStage)?.[1]?.trim().split(/\s+/);
    expect(exposed).toEqual([imageEnv['PORT'], imageEnv['METRICS_PORT']]);
    const config = loadConfig({ ...imageEnv, SANDBOX: 'true', CALLER_AUTH: 'api-key', API_KEYS: `soar:${hashApiKey('k')}:Users.Read` });
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 4000, metricsPort: 9464 });
  });

  it('caps the heap with NODE_OPTIONS at the size docs/benchmark.md measured and recommends', () => {
    const runtime = dockerfile.slice(dockerfile.search(/^FROM\s+\S+\s+AS\s+runtime/im));
    const cap = /NODE_OPTIONS=--max-old-space-size=(\d+)/.exec(runtime)?.[1];
    expect(cap).toBeDefined();
    expect(readFileSync(path.join(root, 'docs/benchmark.md'), 'utf8')).toContain(`--max-old-space-size=${cap}`);
  });

  describe('docker/compose.yaml', () => {
    const doc = parseYaml(compose) as {
      services: Record<
        string,
        {
          environment: Record<string, string>;
          command?: string[];
          secrets?: Array<{ source: string; target: string }>;
          stop_grace_period?: string;
          stop_signal?: string;
          build?: { dockerfile: string };
          image?: string;
          user?: string;
          read_only?: boolean;
          tmpfs?: string[];
          cap_drop?: string[];
          security_opt?: string[];
          volumes?: string[];
          mem_limit?: string;
        }
      >;
      secrets: Record<string, { file: string }>;
    };
    const gateway = doc.services['gateway']!;
    const env = gateway.environment;

    it('runs the gateway with Redis as the shared token cache, from docker/Dockerfile', () => {
      expect(Object.keys(doc.services).sort()).toEqual(['gateway', 'redis']);
      expect(gateway.build?.dockerfile).toBe('docker/Dockerfile');
      // With the password the compose Redis requires (test/e2e/redis-password.test.ts starts one with its options).
      expect(env['CACHE_URL']).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/);
      const redis = doc.services['redis']!;
      expect(redis.command).toContain('--requirepass');
      expect(redis.command?.[redis.command.indexOf('--requirepass') + 1]).toMatch(/^\$\{REDIS_PASSWORD:\?/);
      expect(redis.environment['REDISCLI_AUTH']).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    });

    it('sets every variable the docs recommend for a real tenant, and refuses to start without the keys', () => {
      for (const name of [
        'CALLER_AUTH',
        'API_KEYS',
        'API_AUDIENCE',
        'TOKEN_CACHE_KEY',
        'CURSOR_KEY',
        'AZURE_TENANT_ID',
        'AZURE_CLIENT_ID',
        'AZURE_CLIENT_SECRET',
        'AZURE_CLIENT_CERTIFICATE_PATH',
        'GRAPH_AUTH_FLOW',
        'CORS_ORIGINS',
        'DRAIN_TIMEOUT_MS',
        'PLAYGROUND',
        'INTROSPECTION',
      ])
        expect(env, name).toHaveProperty(name);
      expect(env['TOKEN_CACHE_KEY']).toMatch(/^\$\{TOKEN_CACHE_KEY:\?/);
      expect(env['CURSOR_KEY']).toMatch(/^\$\{CURSOR_KEY:\?/);
      // Every name is one the gateway reads (a typo would be silently ignored).
      const configDir = path.join(root, 'src/config');
      const configSource = [path.join(root, 'src/config.ts'), ...readdirSync(configDir).map((f) => path.join(configDir, f))]
        .map((file) => readFileSync(file, 'utf8'))
        .join('\n');
      for (const name of Object.keys(env)) expect(configSource, name).toContain(`'${name}'`);
    });

    it('runs every service as deploy/ runs it: read-only root file system, no capabilities, no new privileges, not as root', () => {
      for (const [name, service] of Object.entries(doc.services)) {
        expect(service.read_only, name).toBe(true);
        expect(service.cap_drop, name).toEqual(['ALL']);
        expect(service.security_opt, name).toContain('no-new-privileges:true');
        // The gateway's image says USER node (checked above); Redis's image starts as root unless told.
        if (service.image) expect(service.user, name).toBe('redis');
        expect(service.user ?? 'node', name).not.toMatch(/^(root|0)(:|$)/);
      }
      // What stays writable for the gateway: DATA_DIR (the image's /data, on a named volume) and a small /tmp.
      const dataDir = /DATA_DIR=(\S+)/.exec(dockerfile)?.[1];
      expect(gateway.volumes).toContain(`gateway-data:${dataDir}`);
      expect(gateway.tmpfs?.map((t) => t.split(':')[0])).toEqual(['/tmp']);
      expect(gateway.tmpfs?.[0]).toMatch(/:size=\d+[km]$/);
    });

    it("limits the gateway's memory as deploy/ does, at least twice the image's heap cap", () => {
      const mebibytes = (value: string) => {
        const m = /^(\d+)(m|Mi|g|Gi)$/.exec(value);
        if (!m) throw new Error(`unexpected memory value ${value}`);
        return Number(m[1]) * (m[2]!.startsWith('g') || m[2] === 'Gi' ? 1024 : 1);
      };
      const heapCap = Number(/--max-old-space-size=(\d+)/.exec(dockerfile)?.[1]);
      const deployLimit = /limits:\s*\n\s*cpu: [^\n]+\n\s*memory: (\S+)/.exec(readFileSync(path.join(root, 'deploy/deployment.yaml'), 'utf8'))?.[1];
      expect(heapCap).toBeGreaterThan(0);
      expect(gateway.mem_limit).toBeDefined();
      expect(mebibytes(gateway.mem_limit!)).toBeGreaterThanOrEqual(2 * heapCap);
      expect(mebibytes(gateway.mem_limit!)).toBe(mebibytes(deployLimit!));
    });

    it('mounts the app certificate as a secret where AZURE_CLIENT_CERTIFICATE_PATH points', () => {
      expect(gateway.secrets).toEqual([{ source: 'graph-app-certificate', target: 'graph-app.pem' }]);
      expect(doc.secrets['graph-app-certificate']!.file).toMatch(/^\$\{GRAPH_APP_CERTIFICATE_FILE:-/);
      expect(compose).toContain('AZURE_CLIENT_CERTIFICATE_PATH=/run/secrets/graph-app.pem');
      expect(readFileSync(path.join(root, 'docs/operations.md'), 'utf8')).toContain('AZURE_CLIENT_CERTIFICATE_PATH=/run/secrets/graph-app.pem');
    });

    it('gives the drain time to finish before the SIGKILL: stop_grace_period above DRAIN_TIMEOUT_MS plus the close margin', () => {
      expect(gateway.stop_signal).toBe('SIGTERM');
      const grace = /^(\d+)s$/.exec(gateway.stop_grace_period ?? '')?.[1];
      const drainMs = Number(/:-(\d+)\}$/.exec(env['DRAIN_TIMEOUT_MS'] ?? '')?.[1]);
      expect(drainMs).toBe(DEFAULT_DRAIN_TIMEOUT_MS);
      expect(Number(grace) * 1000).toBeGreaterThanOrEqual(drainMs + 5_000);
    });

    it("publishes the main port and the image's metrics port on loopback only, and leaves METRICS_PORT to the image", () => {
      expect((doc.services['gateway'] as { ports?: string[] }).ports).toEqual([
        `127.0.0.1:${imageEnv['PORT']}:${imageEnv['PORT']}`,
        `127.0.0.1:${imageEnv['METRICS_PORT']}:${imageEnv['METRICS_PORT']}`,
      ]);
      expect(env['PORT']).toBe(imageEnv['PORT']);
      expect(env).not.toHaveProperty('METRICS_PORT');
    });

    it('its values (defaults, plus the required keys) make a valid production configuration', () => {
      // Compose's environment over the image's own ENV, as the container gets them.
      const resolved: Record<string, string> = { ...imageEnv };
      const samples: Record<string, string> = {
        API_KEYS: `soar:${hashApiKey('k')}:Users.Read`,
        TOKEN_CACHE_KEY: randomBytes(32).toString('base64'),
        CURSOR_KEY: randomBytes(32).toString('base64'),
        REDIS_PASSWORD: randomBytes(24).toString('hex'),
        AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        AZURE_CLIENT_ID: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f',
        AZURE_CLIENT_SECRET: 'not-a-real-secret',
      };
      // Compose's interpolation: `${NAME}`, `${NAME:-default}`, `${NAME:?message}`, also inside a value.
      for (const [name, value] of Object.entries(env))
        resolved[name] = value.replace(
          /\$\{(\w+)(?::([-?])([^}]*))?\}/g,
          (_, ref: string, op?: string, rest?: string) => samples[ref] ?? (op === '-' ? rest! : ''),
        );
      const config = loadConfig(resolved);
      expect(config.sandbox.enabled).toBe(false);
      expect(config.callerAuth.mode).toBe('api-key');
      expect(config.cache).toEqual({ kind: 'redis', url: `redis://:${samples['REDIS_PASSWORD']}@redis:6379` });
      expect(config.playground).toBe(false);
      expect(config.introspection).toBe(false);
      expect(config.drainTimeoutMs).toBe(DEFAULT_DRAIN_TIMEOUT_MS);
      expect(config.cursorKey).toBeDefined();
      expect(config.listen).toEqual({ host: '0.0.0.0', port: 4000, metricsPort: 9464 });
    });
  });

  describe('the build stage output, started as the runtime stage starts it', () => {
    let child: ChildProcess | undefined;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-dist-'));
    afterAll(() => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('npm run build produces dist/src/main.js, which in production serves the sandbox only when SANDBOX=true, and stops on SIGTERM with exit 0', async () => {
      await buildProduction();
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
      let metricsPort = await freePort();
      while (metricsPort === port) metricsPort = await freePort();
      // The runtime stage's own ENV (NODE_ENV, NODE_OPTIONS...), with a loopback listen address, free
      // ports (METRICS_PORT of the image moved, not removed) and a temp data dir.
      expect(imageEnv['NODE_ENV']).toBe('production');
      expect(imageEnv['METRICS_PORT']).toBeDefined();
      const env = {
        ...imageEnv,
        PATH: process.env['PATH'] ?? '',
        HOST: '127.0.0.1',
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        // Explicit, so this holds whatever the production defaults are.
        SANDBOX: 'true',
        CALLER_AUTH: 'none',
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
      // /metrics on its own port only: the main port answers 404 for it.
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE');
      // What `docker stop` sends to PID 1.
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }, 240_000);
  });
});
