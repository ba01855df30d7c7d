import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logRecords, startProductionGateway, type GatewayProcess } from '../support/gateway-process.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * Graceful shutdown of the production build, started as the Docker image starts it (`node
 * dist/src/main.js`, NODE_ENV=production): SIGTERM while a changePassword waits on a slow Graph
 * (emulator latency) must let the mutation finish, answer it, write its audit line to stdout and
 * exit 0. Before the fix Apollo's own signal handler re-raised SIGTERM within ~10 ms: an empty
 * reply, no audit line, exit by signal.
 */
const KEY = 'ops-key-0123456789abcdef';
const LATENCY_MS = 1_500;

describe('production build: SIGTERM drains in-flight operations', () => {
  let gw: GatewayProcess;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-shutdown-'));

  beforeAll(async () => {
    // NODE_ENV=production with SANDBOX=true spelled out (startProductionGateway), so the test holds
    // whatever the production defaults are.
    gw = await startProductionGateway({
      dataDir,
      env: {
        SANDBOX_USERS: '50',
        ...apiKeyCallers({ ops: { key: KEY, permissions: ['Users.Read', 'Users.ChangePassword'] } }),
        LOG_LEVEL: 'info',
      },
    });
  }, 240_000);

  afterAll(() => {
    gw?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (body: unknown) =>
    fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify(body) });

  it('answers the in-flight mutation, audits it on stdout and exits 0', async () => {
    const list = (await (await post({ query: '{ users(first: 5) { nodes { id } } }' })).json()) as { data: { users: { nodes: Array<{ id: string }> } } };
    const target = list.data.users.nodes[2]!.id;
    await gw.setEmulatorFaults({ latencyMs: LATENCY_MS });

    const sent = Date.now();
    const mutation = post({
      query: 'mutation($input: ChangePasswordInput!) { changePassword(input: $input) { user { id } } }',
      variables: { input: { user: target, password: 'Shutdown!Drain-42xq' } },
    });
    // The mutation is on its way to (slow) Graph when the orchestrator's SIGTERM arrives.
    await new Promise((r) => setTimeout(r, 400));
    const signalled = Date.now();
    process.kill(gw.child.pid!, 'SIGTERM');

    const res = await mutation;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data?: { changePassword: { user: { id: string } } }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(body.data!.changePassword.user.id).toBe(target);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(LATENCY_MS);
    const correlationId = res.headers.get('x-correlation-id');

    const exit = await gw.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    // Bounded by the drain, not by a kill: well under the 8 s default drain time.
    expect(Date.now() - signalled).toBeLessThan(8_000);

    const records = logRecords(gw.stdout());
    const audit = records.find((r) => r.audit === true && r.operation === 'changePassword');
    expect(audit).toMatchObject({ outcome: 'succeeded', targetUser: target, correlationId, caller: { kind: 'api-key', keyId: 'ops' } });
    expect(gw.output()).not.toContain('Shutdown!Drain-42xq');
    const messages = records.map((r) => r.msg as string);
    const shuttingDown = messages.indexOf('shutting down: no new connections, draining in-flight operations');
    expect(shuttingDown).toBeGreaterThanOrEqual(0);
    expect(messages.indexOf('audit changePassword succeeded')).toBeGreaterThan(shuttingDown);
    expect(records.find((r) => r.msg === 'shutdown: drained')).toMatchObject({ operationsAtStart: 1, stopped: 0 });
    // The last line written before exit made it out (the log is flushed before exiting).
    expect(messages.at(-1)).toBe('stopped');
    await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
  }, 30_000);
});
