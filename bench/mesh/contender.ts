/**
 * GraphQL Mesh as the benchmark's fourth contender (docs/benchmark.md#graphql-mesh): the legacy Mesh
 * CLI with its OData source over the emulator's `$metadata`, built and served as a child process on
 * loopback like the naive server. Mesh is an optional dev dependency: where it is not installed, the
 * contender does not start and the run says why.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { fetchClientCredentialsToken, type ClientCredentials } from '../lib/client-credentials.js';
import type { BenchFixtures } from '../lib/fixtures.js';
import { startChild, waitForHttpOk, type ChildHandle } from '../lib/processes.js';
import type { Scenario } from '../scenarios.js';
import { MESH_OPERATIONS, MESH_UNSUPPORTED, isNoManagerError, type MeshError } from './operations.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The exact versions this contender was validated with (docs/benchmark.md#graphql-mesh). */
export const MESH_PACKAGES = ['@graphql-mesh/cli@0.82.27', '@graphql-mesh/odata@0.22.18'] as const;

export interface MeshSetup extends ClientCredentials {
  /** Graph's origin (without /v1.0). */
  graphOrigin: string;
  caFile: string;
  caPem: string;
  fixtures: BenchFixtures;
  /** A directory of the run's own, removed with it. */
  workDir: string;
  port: number;
  env: NodeJS.ProcessEnv;
}

export interface MeshContender {
  child: ChildHandle;
  /** Why Mesh cannot run a scenario, or undefined when it can. */
  unsupported(scenario: Scenario): string | undefined;
  run(scenario: Scenario, i: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The Mesh CLI's entry script: BENCH_MESH_CLI (a path to `@graphql-mesh/cli/cjs/bin.js`, e.g. in a
 * scratch install) or the project's own dev dependency.
 */
function meshCli(env: NodeJS.ProcessEnv): string {
  const explicit = env.BENCH_MESH_CLI;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`BENCH_MESH_CLI=${explicit} does not exist`);
    return explicit;
  }
  try {
    const manifest = createRequire(import.meta.url).resolve('@graphql-mesh/cli/package.json');
    const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> };
    return path.join(path.dirname(manifest), bin['mesh'] ?? 'cjs/bin.js');
  } catch {
    throw new Error(`GraphQL Mesh is not installed (npm install -D ${MESH_PACKAGES.join(' ')}, or BENCH_MESH_CLI=<path to @graphql-mesh/cli/cjs/bin.js>)`);
  }
}

/** The node_modules directory the CLI lives in: Mesh's generated artifacts import its packages from there. */
function nodeModulesOf(cli: string): string {
  const at = cli.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (at < 0) throw new Error(`cannot tell which node_modules ${cli} is in`);
  return cli.slice(0, at + '/node_modules'.length);
}

async function runToExit(child: ChildHandle, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!child.exited() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (!child.exited()) {
    await child.stop();
    throw new Error(`${child.name}: did not finish within ${timeoutMs} ms (log: ${child.logFile})`);
  }
}

export async function startMesh(setup: MeshSetup): Promise<MeshContender> {
  const cli = meshCli(setup.env);
  const dir = path.join(setup.workDir, 'mesh');
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(HERE, '.meshrc.yml'), path.join(dir, '.meshrc.yml'));
  symlinkSync(nodeModulesOf(cli), path.join(dir, 'node_modules'), 'dir');

  const tokenDispatcher = new Agent({ connect: { ca: setup.caPem } });
  const token = await fetchClientCredentialsToken(setup, tokenDispatcher, 'mesh: ').finally(() => tokenDispatcher.close());
  const env: NodeJS.ProcessEnv = {
    ...setup.env,
    NODE_ENV: 'production',
    NODE_EXTRA_CA_CERTS: setup.caFile,
    MESH_GRAPH_ENDPOINT: `${setup.graphOrigin}/v1.0`,
    MESH_GRAPH_TOKEN: token,
  };
  // `mesh build` reads $metadata (one Graph request) and writes the artifacts `mesh start` serves.
  const build = startChild('mesh-build', process.execPath, [cli, 'build', '--dir', dir], env, path.join(setup.workDir, 'mesh-build.log'), {
    cwd: dir,
  });
  await runToExit(build, 120_000);
  if (!existsSync(path.join(dir, '.mesh', 'index.ts'))) throw new Error(`mesh build failed (log: ${build.logFile})`);

  const child = startChild('mesh', process.execPath, [cli, 'start', '--dir', dir, '--port', String(setup.port)], env, path.join(setup.workDir, 'mesh.log'), {
    // The CLI loads its own helpers relative to the working directory: the node_modules link above.
    cwd: dir,
  });
  const base = `http://127.0.0.1:${setup.port}`;
  try {
    await waitForHttpOk(`${base}/healthcheck`, child, 60_000);
  } catch (error) {
    await child.stop();
    throw error;
  }

  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 128 });
  return {
    child,
    unsupported: (scenario) => (MESH_OPERATIONS[scenario.number] ? undefined : (MESH_UNSUPPORTED[scenario.number] ?? 'no Mesh operation')),
    async run(scenario, i) {
      const operation = MESH_OPERATIONS[scenario.number];
      if (!operation) throw new Error(`mesh: ${MESH_UNSUPPORTED[scenario.number] ?? 'no Mesh operation'}`);
      const res = await request(`${base}/graphql`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(operation.graphql(setup.fixtures, i)),
      });
      const text = await res.body.text();
      let answer: { data?: Record<string, unknown> | null; errors?: MeshError[] };
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        throw new Error(`HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`);
      }
      const first = answer.errors?.find((e) => !isNoManagerError(e));
      if (first) throw new Error(`${first.extensions?.code ?? 'ERROR'}: ${first.message || '(empty message)'}`);
      if (!answer.data) throw new Error(`HTTP ${res.statusCode} without data`);
      operation.check(answer.data, setup.fixtures, i);
    },
    close: async () => {
      await dispatcher.close();
      await child.stop();
    },
  };
}
