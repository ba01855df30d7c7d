import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logRecords, startProductionGateway, type GatewayProcess } from '../support/gateway-process.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * What validating one document may cost (docs/security.md#repeated-fields-in-one-selection).
 * graphql-js's overlapping-fields rule compares every pair of fields answering under one response
 * path, and Apollo runs it on every new document, and on every request of a document that fails
 * validation, before the permission check. Before: within MAX_TOKENS, `users { nodes { id } }` 700
 * times took 200 to 700 ms of the event loop per request from a key holding only `Users.Terminate`,
 * and four at a time held another caller's `{ __typename }` for up to 1.6 s. Now such a document is
 * refused before Apollo parses it (400 OPERATION_TOO_COMPLEX, `reason: "TOO_MANY_FIELD_PAIRS"`), audited
 * when it is a mutation, and Graph sees nothing. The production build, as the image runs it.
 */
const HELPDESK = 'helpdesk-key-0123456789abcdef';
const READER = 'reader-key-0123456789abcdef';

describe('the cost of validating a document (production build)', () => {
  let gw: GatewayProcess;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-validation-cost-'));

  beforeAll(async () => {
    gw = await startProductionGateway({
      dataDir,
      nodeArgs: ['--max-old-space-size=128'],
      env: {
        SANDBOX_USERS: '20',
        ...apiKeyCallers({ helpdesk: { key: HELPDESK, permissions: ['Users.Terminate'] }, reader: { key: READER, permissions: ['Users.Read'] } }),
        LOG_LEVEL: 'warn',
      },
    });
  }, 240_000);

  afterAll(() => {
    gw?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = async (key: string, query: string) => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions: Record<string, unknown> }> } };
  };
  const graphRequests = async () => {
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    return [...metrics.matchAll(/^gateway_upstream_requests_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  };

  it('refuses fields repeated under one response path before validation, whoever sends them; Graph sees nothing', async () => {
    const before = await graphRequests();
    for (const query of [
      `{ ${'users(first: 1) { nodes { id } } '.repeat(400)} }`,
      `{ ${'user(id: "x") { id } '.repeat(550)} }`,
      // Three levels of 16, 8 and 6: 280 ms of validation before, though no level repeats a name more than 16 times.
      `{ users(first: 1) { nodes { ${`manager { ${`manager { ${'manager { id } '.repeat(6)} } `.repeat(8)} } `.repeat(16)} } } }`,
    ]) {
      for (const key of [HELPDESK, READER]) {
        const answer = await post(key, query);
        expect(answer.status).toBe(400);
        expect(answer.body.errors).toHaveLength(1);
        expect(answer.body.errors![0]!.extensions).toEqual({ code: 'OPERATION_TOO_COMPLEX', reason: 'TOO_MANY_FIELD_PAIRS' });
        expect(answer.body.errors![0]!.message).toMatch(/select a field once, or give each its own alias/);
      }
    }
    expect(await graphRequests()).toBe(before);
    expect(gw.child.exitCode).toBeNull();
  }, 120_000);

  it('a mutation document refused so is audited, with nothing sent', async () => {
    const answer = await post(HELPDESK, `mutation Contain { ${'terminateSession(input: { user: "nobody@contoso.example" }) { succeeded } '.repeat(40)} }`);
    expect(answer.status).toBe(400);
    expect(answer.body.errors![0]!.extensions).toEqual({ code: 'OPERATION_TOO_COMPLEX', reason: 'TOO_MANY_FIELD_PAIRS' });
    let audit: Record<string, any> | undefined;
    for (let i = 0; i < 50 && !audit; i++) {
      audit = logRecords(gw.stdout()).find((r) => r.audit === true && r.operation === 'terminateSession' && r.outcome === 'refused');
      if (!audit) await new Promise((r) => setTimeout(r, 100));
    }
    expect(audit).toMatchObject({ reason: 'OPERATION_TOO_COMPLEX', reasonDetail: 'TOO_MANY_FIELD_PAIRS', httpStatus: 400, steps: [], requestIds: [] });
  }, 60_000);

  it('serves what operations ordinarily repeat: fields in several fragments, `id` and `__typename` everywhere, aliases', async () => {
    const query = `query Page {
      users(first: 3) { nodes { ...Card ...Row __typename manager { ...Card __typename } } }
      ${Array.from({ length: 20 }, (_, i) => `u${i}: users(first: 1) { nodes { id } }`).join(' ')}
    }
    fragment Card on User { id __typename displayName manager { id displayName __typename } }
    fragment Row on User { id __typename userPrincipalName manager { id } directReports(first: 2) { nodes { ...Card } } }`;
    const answer = await post(READER, query);
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect((answer.body.data as { users: { nodes: unknown[] } }).users.nodes).toHaveLength(3);
    // The same text again is not parsed a second time by the check (remembered), and still served.
    expect((await post(READER, query)).status).toBe(200);
  }, 60_000);
});
