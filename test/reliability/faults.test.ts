import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READINESS_TTL_MS } from '../../src/http/readiness.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { clearAnswerProblems, post, startRecordingGateway, type HttpAnswer, type RecordingGateway } from './recording-gateway.js';
import { freePort } from '../support/net.js';

/**
 * Fault injection against the emulator: throttling with Retry-After, 503s, dropped connections
 * and latency under a mixed workload; Graph gone entirely and back; graceful shutdown.
 */
const RETRYABLE = new Set(['THROTTLED', 'UPSTREAM_UNAVAILABLE']);

const gql = (gw: RecordingGateway, query: string, variables?: Record<string, unknown>) =>
  post(gw.url, JSON.stringify({ query, ...(variables ? { variables } : {}) }));

/** Either every error is a retryable one with a retry hint, or there are none. */
function retryableProblems(answer: HttpAnswer): string[] {
  const problems = clearAnswerProblems(answer, true);
  for (const error of answer.json?.errors ?? []) {
    const code = error.extensions?.code ?? '';
    if (!RETRYABLE.has(code)) problems.push(`non-retryable error under faults: ${code} ${error.message}`);
    else if (typeof error.extensions?.retryAfterSeconds !== 'number') problems.push(`${code} without retryAfterSeconds: ${error.message}`);
  }
  return problems;
}

describe('mixed workload under faults', () => {
  let emulator: TestEmulator;
  let gw: RecordingGateway;
  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 150 });
    gw = await startRecordingGateway(emulator, { LOG_LEVEL: 'warn', DEPLOYMENT_MODE: 'self-deployed', MAX_RETRIES: '4' });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await emulator?.close();
  });

  it('answers every query correctly or with a clear retryable error, applies mutations once, keeps memory flat', async () => {
    const users = [...emulator.tenant.users.values()] as UserRecord[];
    const byId = new Map(users.map((u) => [u.id, u]));
    const targets = users
      .filter(
        (u) =>
          u.accountEnabled &&
          u.userType === 'Member' &&
          u._directoryRoles.length === 0 &&
          !u.userPrincipalName.startsWith('$') &&
          u.id !== emulator.tenant.wellKnown.adminUserId,
      )
      .slice(0, 6);
    // A fault-free baseline of the first page, to compare answers under faults with.
    const baseline = await gql(gw, '{ users(first: 30) { nodes { id displayName manager { id } } } }');
    expect(baseline.json?.errors).toBeUndefined();
    const baselineNodes = (baseline.json?.data as { users: { nodes: Array<{ id: string; displayName: string; manager: { id: string } | null }> } }).users.nodes;

    await emulator.setFaults({ throttleRate: 0.2, retryAfterSeconds: 1, unavailableRate: 0.05, dropRate: 0.02, latencyMs: 5, seed: 7 });
    const heapBefore = process.memoryUsage().heapUsed;
    const problems: string[] = [];
    let correct = 0;
    let retryable = 0;
    const work: Array<() => Promise<void>> = [];
    for (let round = 0; round < 8; round++) {
      work.push(async () => {
        const r = await gql(gw, '{ users(first: 30) { nodes { id displayName manager { id } } } }');
        problems.push(...retryableProblems(r));
        if (!r.json?.errors) {
          expect((r.json?.data as { users: { nodes: unknown[] } }).users.nodes).toEqual(baselineNodes);
          correct += 1;
        } else retryable += 1;
      });
      const sample = users.slice(round * 10, round * 10 + 10);
      work.push(async () => {
        const q = `{ ${sample.map((u, i) => `u${i}: user(id: "${u.id}") { id displayName manager { id } directReports(first: 5) { nodes { id } } }`).join(' ')} }`;
        const r = await gql(gw, q);
        problems.push(...retryableProblems(r));
        const data = (r.json?.data ?? {}) as Record<
          string,
          { id: string; displayName: string; manager: { id: string } | null; directReports: { nodes: Array<{ id: string }> } } | null
        >;
        sample.forEach((u, i) => {
          const got = data[`u${i}`];
          if (!got) return; // that field failed with a retryable error (checked above)
          expect(got.displayName).toBe(byId.get(u.id)!.displayName);
          expect(got.manager?.id ?? null).toBe(byId.get(u.id)!.managerId);
          for (const report of got.directReports.nodes) expect(byId.get(report.id)!.managerId).toBe(u.id);
        });
        if (!r.json?.errors) correct += 1;
        else retryable += 1;
      });
    }
    // Idempotent writes, each repeated: whatever the faults did, the end state is the asked one.
    for (const target of targets) {
      work.push(async () => {
        for (let i = 0; i < 2; i++) {
          const r = await gql(gw, 'mutation($u: ID!) { disableAccount(input: { user: $u }) { accountEnabled } }', { u: target.id });
          problems.push(...retryableProblems(r));
        }
      });
    }
    // Not idempotent: a created user must never be created twice by a blind retry.
    const created = `fault-${Date.now()}`;
    work.push(async () => {
      const r = await gql(gw, 'mutation($i: CreateUserInput!) { createUser(input: $i) { __typename } }', {
        i: { userPrincipalName: `${created}@${emulator.tenant.domain}`, displayName: created, mailNickname: created, password: 'Fault-Tolerant-42!x' },
      });
      problems.push(...clearAnswerProblems(r, true));
    });
    await Promise.all(work.map((w) => w()));
    await emulator.setFaults({ throttleRate: 0, unavailableRate: 0, dropRate: 0, latencyMs: 0 });

    expect(problems).toEqual([]);
    const stats = await emulator.stats();
    expect(stats.faults.throttled + stats.faults.unavailable + stats.faults.dropped).toBeGreaterThan(0);
    expect(correct).toBeGreaterThan(0);
    expect(correct + retryable).toBe(16);
    // Disabled once or twice, the account is disabled (or the write failed retryably and can be repeated).
    for (const target of targets) {
      const r = await gql(gw, 'mutation($u: ID!) { disableAccount(input: { user: $u }) { accountEnabled } }', { u: target.id });
      expect(r.json?.errors).toBeUndefined();
      expect(emulator.tenant.users.get(target.id)!.accountEnabled).toBe(false);
    }
    const copies = [...emulator.tenant.users.values()].filter((u) => u.userPrincipalName.startsWith(`${created}@`));
    expect(copies.length).toBeLessThanOrEqual(1);
    // Memory: the workload must not leave a growing heap behind (generous bound: no GC control here).
    const heapAfter = process.memoryUsage().heapUsed;
    expect(heapAfter - heapBefore).toBeLessThan(150 * 1024 * 1024);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  }, 90_000);

  it('graceful shutdown drains an in-flight operation', async () => {
    const local = await startRecordingGateway(emulator, { LOG_LEVEL: 'warn' });
    await gql(local, '{ users(first: 1) { nodes { id } } }'); // token cached, connections warm
    await emulator.setFaults({ latencyMs: 1_500 });
    try {
      const slow = gql(local, '{ users(first: 3) { nodes { id displayName } } }');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const closed = local.close();
      const answer = await slow;
      await closed;
      expect(answer.status).toBe(200);
      expect(answer.json?.errors).toBeUndefined();
      expect((answer.json?.data as { users: { nodes: unknown[] } }).users.nodes).toHaveLength(3);
      await expect(fetch(`${local.url}/healthz`)).rejects.toThrow();
    } finally {
      await emulator.setFaults({ latencyMs: 0 });
    }
  }, 30_000);
});

describe('Graph down entirely, then back', () => {
  let dataDir: string;
  let port: number;
  let emulator: RunningEmulator;
  let gw: RecordingGateway;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-down-'));
    port = await freePort();
    emulator = await startEmulator({ port, dataDir, userCount: 50 });
    gw = await startRecordingGateway(Object.assign(emulator, { dataDir }) as never, { LOG_LEVEL: 'warn', UPSTREAM_TIMEOUT_MS: '2000' });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps /healthz, reports not ready, answers UPSTREAM_UNAVAILABLE quickly, and recovers by itself', async () => {
    const ok = await gql(gw, '{ users(first: 2) { nodes { id } } }');
    expect(ok.json?.errors).toBeUndefined();
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);

    await emulator.close();
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const started = Date.now();
    const down = await gql(gw, '{ users(first: 2) { nodes { id } } }');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(retryableProblems(down)).toEqual([]);
    expect(down.json?.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    // /readyz answers from a cache of READINESS_TTL_MS (docs/security.md#routes-and-who-may-use-them): it turns within that.
    expect(await readyzBecomes(gw.url, 503), 'readiness must reflect that Microsoft Graph is unreachable').toBe(503);

    emulator = await startEmulator({ port, dataDir, userCount: 50 });
    let recovered: HttpAnswer | undefined;
    for (let i = 0; i < 20 && !recovered; i++) {
      const r = await gql(gw, '{ users(first: 2) { nodes { id } } }');
      if (!r.json?.errors) recovered = r;
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(recovered, 'the gateway did not recover after Graph came back').toBeDefined();
    expect(await readyzBecomes(gw.url, 200)).toBe(200);
  }, 60_000);
});

/** Polls /readyz until it answers `status` or its cache period (plus a probe) has passed; the last status. */
async function readyzBecomes(base: string, status: number): Promise<number> {
  const deadline = Date.now() + READINESS_TTL_MS + 5_000;
  for (;;) {
    const answer = (await fetch(`${base}/readyz`)).status;
    if (answer === status || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
