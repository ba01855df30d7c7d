import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELTA_PAGE_SIZE } from '../../../src/emulator/graph/delta.js';
import type { TestEmulator } from '../../support/emulator.js';
import { type graphCaller, startEmulatorAsApp } from './graph-client.js';

/**
 * Delta paging as Graph documents it (docs/graph-facts.md#delta-query): the server picks the page
 * size (user pages of at most 200, no `$top`), query parameters go on the first request only (a
 * `$select` next to a `$skiptoken` is refused), and a full sync started before writes neither
 * loses nor skips anyone: an id cursor, not an offset, so a user created or deleted mid-sync shifts
 * nothing, and the next round reports those writes.
 */
let emulator: TestEmulator;
let graph: ReturnType<typeof graphCaller>;

beforeAll(async () => {
  ({ emulator, graph } = await startEmulatorAsApp(['User Administrator'], { userCount: 650 }));
});
afterAll(async () => {
  await emulator.close();
});

describe('GET /v1.0/users/delta paging', () => {
  it('pages of at most 200 users; $top and a $select beside a $skiptoken are refused', async () => {
    const first = await graph('GET', '/v1.0/users/delta?$select=displayName');
    expect(first.status).toBe(200);
    expect(first.body.value).toHaveLength(DELTA_PAGE_SIZE);
    const next = first.body['@odata.nextLink'] as string;
    expect(next).toMatch(/\/v1\.0\/users\/delta\?\$skiptoken=/);
    expect(first.body['@odata.deltaLink']).toBeUndefined();
    expect((await graph('GET', '/v1.0/users/delta?$top=5')).status).toBe(400);
    expect((await graph('GET', `${next}&$select=jobTitle`)).status).toBe(400);
  });

  it('writes during a full sync are neither lost nor skipped: they come back in the next round', async () => {
    const ids = [...emulator.tenant.users.keys()].sort();
    const first = await graph('GET', '/v1.0/users/delta?$select=displayName');
    const returned = new Set<string>(first.body.value.map((u: { id: string }) => u.id));
    // Delete a user not reached yet, and create users until one sorts before the cursor (an offset would now skip someone).
    const cursor = first.body.value.at(-1).id as string;
    expect((await graph('DELETE', `/v1.0/users/${ids.at(-1)}`)).status).toBe(204);
    const created: string[] = [];
    for (let n = 0; created.every((id) => id > cursor) && n < 40; n += 1) {
      const post = await graph('POST', '/v1.0/users', {
        body: {
          accountEnabled: true,
          displayName: `Mid Sync ${n}`,
          mailNickname: `mid.sync${n}`,
          userPrincipalName: `mid.sync${n}@${emulator.tenant.domain}`,
          passwordProfile: { password: `Qz!8847-pLm#Tr${n}` },
        },
      });
      expect(post.status, JSON.stringify(post.body)).toBe(201);
      created.push(post.body.id);
    }
    let url: string | undefined = first.body['@odata.nextLink'];
    let deltaLink = '';
    while (url) {
      const page = await graph('GET', url);
      expect(page.body.value.length).toBeLessThanOrEqual(DELTA_PAGE_SIZE);
      for (const u of page.body.value as Array<{ id: string }>) {
        expect(returned.has(u.id)).toBe(false);
        returned.add(u.id);
      }
      url = page.body['@odata.nextLink'];
      deltaLink = page.body['@odata.deltaLink'] ?? deltaLink;
    }
    for (const id of ids.slice(0, -1)) expect(returned.has(id), id).toBe(true);
    expect(returned.has(ids.at(-1)!)).toBe(false);

    const round = await graph('GET', deltaLink);
    const changed = (round.body.value as Array<{ id: string; '@removed'?: unknown }>).filter((u) => !u['@removed']).map((u) => u.id);
    expect(changed.sort()).toEqual([...created].sort());
    expect(round.body.value).toContainEqual({ id: ids.at(-1), '@removed': { reason: 'changed' } });
  });
});
