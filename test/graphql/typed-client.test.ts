import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * Follows "A typed client with @graphql-codegen/client-preset" in docs/querying.md to the letter,
 * offline: the code blocks are taken from the document itself, the packages it says to install are
 * the repository's installed ones (the project's node_modules linked in), its codegen command runs
 * against a running gateway's /schema.graphql, the result type-checks (and a field the operation did
 * not select is a type error), and the client runs in Chromium from a page on another origin:
 * answered when the gateway's CORS_ORIGINS lists that origin, refused by the browser when not.
 */
const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';

const doc = readFileSync(path.join(root, 'docs/querying.md'), 'utf8');
const section = doc.slice(doc.indexOf('## A typed client with `@graphql-codegen/client-preset`'), doc.indexOf('Errors carry `extensions.code`'));
/** ```ts blocks whose first line is `// <file>`, by file name. */
const files = new Map([...section.matchAll(/```ts\n\/\/ (\S+)[^\n]*\n([\s\S]*?)```/g)].map((m) => [m[1]!, `// ${m[1]}\n${m[2]}`]));
const installLine = /```sh\n(npm install [^\n]+)\n```/.exec(section)?.[1] ?? '';
const codegenLine = /```sh\n(npx graphql-codegen [^\n]+)\n```/.exec(section)?.[1] ?? '';

let emulator: TestEmulator;
let withCors: TestGateway;
let withoutCors: TestGateway;
let frontend: Server;
let frontendOrigin: string;
let project: string;

beforeAll(async () => {
  // The frontend's origin (another port: another origin) is known before the gateway starts.
  frontend = createServer();
  await new Promise<void>((resolve) => frontend.listen(0, '127.0.0.1', resolve));
  frontendOrigin = `http://127.0.0.1:${(frontend.address() as AddressInfo).port}`;
  emulator = await startTestEmulator({ userCount: 60 });
  [withCors, withoutCors] = await Promise.all([startTestGateway({ emulator, env: { CORS_ORIGINS: frontendOrigin } }), startTestGateway({ emulator })]);
  project = mkdtempSync(path.join(tmpdir(), 'mgug-typed-client-'));
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => frontend?.close(resolve));
  await withCors?.close();
  await withoutCors?.close();
  await emulator?.close();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('the typed-client steps of docs/querying.md', () => {
  it('names the packages, the codegen command and the files, and the packages are ones this repository has installed', () => {
    expect([...files.keys()].sort()).toEqual(['codegen.client.ts', 'src/gateway.ts', 'src/profile-card.ts']);
    const packages = installLine.split(/\s+/).filter((word) => !word.startsWith('-') && !['npm', 'install'].includes(word));
    expect(packages).toEqual(expect.arrayContaining(['@graphql-codegen/cli', '@graphql-codegen/client-preset', '@graphql-typed-document-node/core']));
    for (const name of packages) expect(existsSync(path.join(root, 'node_modules', name, 'package.json')), name).toBe(true);
    expect(codegenLine).toBe('npx graphql-codegen --config codegen.client.ts');
    expect(section).toContain('CORS_ORIGINS');
  });

  it('generates types from the running gateway, type-checks, and runs in a browser on another origin only with CORS_ORIGINS', async () => {
    // "Install": the repository's packages, offline.
    symlinkSync(path.join(root, 'node_modules'), path.join(project, 'node_modules'), 'dir');
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'typed-client', private: true, type: 'module' }));
    mkdirSync(path.join(project, 'src'));
    for (const [file, text] of files) {
      // The documented schema URL is the default `npm start` gateway; this test's gateway listens elsewhere.
      writeFileSync(path.join(project, file), text.replace('http://127.0.0.1:4000/schema.graphql', `${withCors.url}/schema.graphql`));
    }
    const [command, ...args] = codegenLine.split(' ');
    await run(command!, args, { cwd: project, timeout: 120_000, env: { ...process.env, npm_config_offline: 'true' } });
    expect(existsSync(path.join(project, 'src/gql/graphql.ts'))).toBe(true);

    // Type-check as a frontend would (strict, bundler resolution, DOM), plus a misuse that must fail.
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'es2022',
          module: 'esnext',
          moduleResolution: 'bundler',
          lib: ['es2022', 'dom'],
          noEmit: true,
          skipLibCheck: true,
        },
        include: ['src'],
      }),
    );
    writeFileSync(
      path.join(project, 'src/usage.ts'),
      [
        "import { profileCard } from './profile-card';",
        'export async function managerName(url: string, id: string): Promise<string | null | undefined> {',
        '  const user = await profileCard(url, id);',
        '  // @ts-expect-error jobTitle was not selected by ProfileCard',
        '  void user?.jobTitle;',
        '  return user?.manager?.displayName;',
        '}',
        '',
      ].join('\n'),
    );
    // One tsc run: everything type-checks except a deliberate misuse (a number for the ID variable),
    // so the check is shown to have teeth.
    writeFileSync(path.join(project, 'src/misuse.ts'), "import { profileCard } from './profile-card';\nvoid profileCard('/graphql', 42);\n");
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const diagnostics = await run(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: project, timeout: 120_000 }).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    const errors = diagnostics.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^src\/misuse\.ts\(2,\d+\): error TS2345/);
    rmSync(path.join(project, 'src/misuse.ts'));

    // Bundle for the browser (nothing of `graphql` at run time) and serve it from the frontend origin.
    writeFileSync(
      path.join(project, 'src/page.ts'),
      [
        "import { profileCard } from './profile-card';",
        'const params = new URLSearchParams(location.search);',
        "profileCard(params.get('gateway')!, params.get('id')!).then(",
        "  (user) => { document.body.dataset['result'] = JSON.stringify(user); },",
        "  (error: unknown) => { document.body.dataset['error'] = String(error); },",
        ');',
        '',
      ].join('\n'),
    );
    const bundle = await build({
      entryPoints: [path.join(project, 'src/page.ts')],
      bundle: true,
      format: 'iife',
      write: false,
      platform: 'browser',
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0]!.text;
    expect(script).not.toContain('GraphQLError');
    frontend.on('request', (req, res) => {
      if (req.url?.startsWith('/app.js')) {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(script);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><head><script src="/app.js" defer></script></head><body></body></html>');
    });

    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: CI must run the typed client in a browser`);
      console.warn(`skipping the browser run of the typed client: ${CHROMIUM} is not installed`);
      return;
    }
    const manager = [...emulator.tenant.users.values()].find((u) => u.managerId)!;
    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      const outcome = async (gateway: TestGateway) => {
        await page.goto(`${frontendOrigin}/?gateway=${encodeURIComponent(`${gateway.url}/graphql`)}&id=${manager.id}`);
        await page.locator('body[data-result], body[data-error]').waitFor({ state: 'attached', timeout: 20_000 });
        return { result: await page.locator('body').getAttribute('data-result'), error: await page.locator('body').getAttribute('data-error') };
      };

      const allowed = await outcome(withCors);
      expect(allowed.error).toBeNull();
      const user = JSON.parse(allowed.result!) as { id: string; displayName: string; manager: { displayName: string } | null; managerUnavailable: boolean };
      expect(user.id).toBe(manager.id);
      expect(user.displayName).toBe(manager.displayName);
      expect(user.manager?.displayName).toBe(emulator.tenant.users.get(manager.managerId!)!.displayName);
      expect(user.managerUnavailable).toBe(false);

      // The same page against a gateway without CORS_ORIGINS: the browser refuses the answer.
      const refused = await outcome(withoutCors);
      expect(refused.result).toBeNull();
      expect(refused.error).toMatch(/TypeError: Failed to fetch/);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
