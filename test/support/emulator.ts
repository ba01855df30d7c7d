import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch, type RequestInit, type Response } from 'undici';
import type { GraphSettings } from '../../src/emulator/graph-settings.js';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import type { StatsSnapshot } from '../../src/emulator/stats.js';

/** A running emulator for a test file, on a free loopback port, with a client that trusts its CA. */
export interface TestEmulator extends RunningEmulator {
  /** fetch against the emulator origin (path or absolute URL), trusting the emulator CA. */
  fetch(pathOrUrl: string, init?: RequestInit): Promise<Response>;
  stats(): Promise<StatsSnapshot>;
  resetStats(): Promise<void>;
  setFaults(settings: Record<string, unknown>): Promise<void>;
  /** `POST /_emulator/faults/rules`: targeted faults (src/emulator/faults.ts FaultRules); `[]` clears them. */
  setFaultRules(rules: Array<Record<string, unknown>>): Promise<void>;
  /**
   * `POST /_emulator/graph`: switches to another reading of Graph's documentation
   * (src/emulator/graph-settings.ts). The answer is returned for the test to check.
   */
  setGraph(settings: Partial<GraphSettings>): Promise<Response>;
  dispatcher: Agent;
  dataDir: string;
}

/**
 * An app-only Graph token of the sandbox's demo app, signed by the emulator's own key (the emulator
 * verifies it like any other), holding `roles` (default: every Graph role the app was granted).
 */
export async function demoAppGraphToken(emulator: RunningEmulator, roles?: readonly string[]): Promise<string> {
  const app = emulator.tenant.apps.get(emulator.tenant.wellKnown.demoAppId)!;
  return emulator.context.signer.sign(
    {
      aud: emulator.origin,
      iss: emulator.context.issuer,
      tid: emulator.tenantId,
      oid: app.servicePrincipalId,
      appid: app.appId,
      roles: [...(roles ?? app.graphAppRoles)],
    },
    3600,
  );
}

/**
 * What an operator does by hand: open the demo app's authorize URL (the tenant consents for its
 * admin), and copy `code` from the redirect to `redirectUri`.
 */
export async function demoAppAuthorizationCode(emulator: TestEmulator, redirectUri: string): Promise<string> {
  const url = new URL(`${emulator.authorityHost}/${emulator.tenantId}/oauth2/v2.0/authorize`);
  url.search = new URLSearchParams({
    client_id: emulator.tenant.wellKnown.demoAppId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: `offline_access openid profile ${emulator.graphEndpoint}/.default`,
  }).toString();
  const res = await emulator.fetch(url.toString(), { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}`);
  return new URL(location).searchParams.get('code')!;
}

export async function startTestEmulator(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'mgug-emu-'));
  const emulator = await startEmulator({ userCount: 1000, ...options, dataDir, port: 0 });
  const dispatcher = new Agent({ connect: { ca: emulator.caCertPem } });
  const doFetch = (pathOrUrl: string, init: RequestInit = {}) =>
    undiciFetch(pathOrUrl.startsWith('http') ? pathOrUrl : `${emulator.origin}${pathOrUrl}`, { ...init, dispatcher });
  const close = emulator.close.bind(emulator);
  return Object.assign(emulator, {
    dispatcher,
    dataDir,
    fetch: doFetch,
    stats: async () => (await (await doFetch('/_emulator/stats')).json()) as StatsSnapshot,
    resetStats: async () => {
      await doFetch('/_emulator/stats', { method: 'DELETE' });
    },
    setFaults: async (settings: Record<string, unknown>) => {
      const res = await doFetch('/_emulator/faults', { method: 'POST', body: JSON.stringify(settings), headers: { 'content-type': 'application/json' } });
      if (!res.ok) throw new Error(`faults rejected: ${await res.text()}`);
    },
    setFaultRules: async (rules: Array<Record<string, unknown>>) => {
      const res = await doFetch('/_emulator/faults/rules', {
        method: 'POST',
        body: JSON.stringify({ rules }),
        headers: { 'content-type': 'application/json' },
      });
      if (!res.ok) throw new Error(`fault rules rejected: ${await res.text()}`);
    },
    setGraph: (settings: Partial<GraphSettings>) => doFetch('/_emulator/graph', { method: 'POST', body: JSON.stringify(settings) }),
    close: async () => {
      await close();
      await dispatcher.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  }) as TestEmulator;
}
