import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config.js';
import { renderPermissionsMarkdown } from '../doctor/feature-permissions.js';
import { renderJson, renderText } from '../doctor/report.js';
import { runDoctor, type DoctorOptions } from '../doctor/run.js';
import { createUpstreamHttp } from '../http/upstream.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';

const USAGE = `Usage: npm run doctor -- [options]

Checks the configured tenant before going live: the Graph token the gateway would get, its
permissions against every feature the configuration enables, the Entra roles, and basic reads.

  --json                       machine-readable output
  --test-user <id|upn>         with --allow-writes: revoke the sessions of this one user, disable
                               it and enable it again (no other user is ever touched)
  --allow-writes               confirms the write probes on --test-user
  --caller-token-file <file>   on-behalf-of: a user's access token for the gateway's API
  --permissions-markdown       prints the feature/permission table of docs/operations.md
  --help

Exit code: 0 when everything the configuration enables should work, 1 when something would fail,
2 for a configuration or usage error.`;

/** Exit code 2 with a message: the conventional usage error. */
function usageError(message: string): never {
  process.stderr.write(`doctor: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

export function parseDoctorArgs(argv: string[]): DoctorOptions & { json: boolean; help: boolean; permissionsMarkdown: boolean; callerTokenFile?: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean', default: false },
        'test-user': { type: 'string' },
        'allow-writes': { type: 'boolean', default: false },
        'caller-token-file': { type: 'string' },
        'permissions-markdown': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    usageError((error as Error).message);
  }
  const v = parsed.values;
  if (v['allow-writes'] && !v['test-user']) usageError('--allow-writes needs --test-user <id|upn>: the write probes touch that one user only');
  if (v['test-user'] !== undefined && v['test-user'].trim() === '') usageError('--test-user needs an object id or userPrincipalName');
  return {
    json: v.json,
    help: v.help,
    permissionsMarkdown: v['permissions-markdown'],
    allowWrites: v['allow-writes'],
    ...(v['test-user'] ? { testUser: v['test-user'].trim() } : {}),
    ...(v['caller-token-file'] ? { callerTokenFile: v['caller-token-file'] } : {}),
  };
}

async function main(): Promise<void> {
  const args = parseDoctorArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.permissionsMarkdown) {
    process.stdout.write(renderPermissionsMarkdown());
    return;
  }
  const config = loadConfigOrExit(process.env, { purpose: 'tool' });
  if (config.sandbox.enabled || (!config.selfDeployed && !config.hosted)) {
    usageError(
      'the configuration is the sandbox (no tenant or broker credentials): the doctor checks a real tenant. Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or the BROKER_* variables of hosted mode) as the gateway will run, then run it again.',
    );
  }
  let callerToken: string | undefined;
  if (args.callerTokenFile) {
    if (config.selfDeployed?.flow !== 'on-behalf-of') usageError('--caller-token-file is only for GRAPH_AUTH_FLOW=on-behalf-of');
    try {
      callerToken = readFileSync(args.callerTokenFile, 'utf8').trim();
    } catch (error) {
      usageError(`--caller-token-file ${args.callerTokenFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!callerToken) usageError(`--caller-token-file ${args.callerTokenFile} is empty`);
  }
  const upstream = createUpstreamHttp({
    extraCaPem: config.extraCaPem,
    ...(config.httpsProxy ? { httpsProxy: config.httpsProxy } : {}),
    requestTimeoutMs: config.limits.upstreamTimeoutMs,
    ...(config.limits.maxUpstreamResponseBytes !== undefined ? { maxResponseBytes: config.limits.maxUpstreamResponseBytes } : {}),
  });
  try {
    const report = await runDoctor(
      config,
      { allowWrites: args.allowWrites, ...(args.testUser ? { testUser: args.testUser } : {}), ...(callerToken ? { callerToken } : {}) },
      { upstream, logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }) },
    );
    process.stdout.write(args.json ? renderJson(report) : renderText(report));
    process.exitCode = report.exitCode;
  } finally {
    await upstream.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    // A bug, not a finding: say so without echoing anything that could hold a secret.
    process.stderr.write(`doctor failed unexpectedly: ${error instanceof Error ? error.name : 'error'}\n`);
    process.exit(1);
  });
}
