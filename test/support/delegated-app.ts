import { expect } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import type { TestEmulator } from './emulator.js';
import { loadSandboxConfig } from './sandbox-config.js';
import { capturingLogger, logRecordsOf } from './log-capture.js';

/**
 * The gateway as `npm start` composes it with a DELEGATED Graph identity (GRAPH_AUTH_FLOW=authorization-code):
 * an administrator of the emulator tenant signs in through /auth/login → the tenant's authorize
 * endpoint → /auth/callback, exactly as an operator would, then Graph acts as that administrator.
 */
export interface DelegatedApp {
  app: App;
  url: string;
  /** Object id of the signed-in administrator. */
  signedInUserId: string;
  logLines: string[];
  graphql(query: string, variables?: Record<string, unknown>): Promise<{ status: number; data: any; errors: any[] | undefined }>;
  auditEvents(): Array<Record<string, any>>;
  close(): Promise<void>;
}

export async function startDelegatedApp(
  emulator: TestEmulator,
  options: { env?: Record<string, string>; logLines?: string[]; logLevel?: 'debug' | 'trace' } = {},
): Promise<DelegatedApp> {
  const logLines = options.logLines ?? [];
  const level = options.logLevel ?? 'debug';
  const config = loadSandboxConfig(emulator, {
    DEPLOYMENT_MODE: 'self-deployed',
    GRAPH_AUTH_FLOW: 'authorization-code',
    LOG_LEVEL: level,
    ...options.env,
  });
  const logger = capturingLogger(logLines, level);
  const app = await startApp(config, { emulator, logger });

  const login = await fetch(`${app.url}/auth/login`, { redirect: 'manual' });
  expect(login.status).toBe(302);
  const consent = await emulator.fetch(login.headers.get('location')!, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const done = await fetch(consent.headers.get('location')!, { headers: { cookie: login.headers.get('set-cookie') ?? '' } });
  expect(done.status).toBe(200);

  const graphql: DelegatedApp['graphql'] = async (query, variables) => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
    });
    const body = (await res.json()) as { data?: any; errors?: any[] };
    return { status: res.status, data: body.data, errors: body.errors };
  };
  const me = await graphql('{ me { id } }');
  expect(me.errors).toBeUndefined();
  return {
    app,
    url: app.url,
    signedInUserId: me.data.me.id as string,
    logLines,
    graphql,
    auditEvents: () => logRecordsOf(logLines).filter((r) => r.audit === true),
    close: () => app.close(),
  };
}
