/**
 * Descending order goes to Graph as an advanced query (docs/graph-facts.md#listing-users, "$orderby"):
 * Graph has refused `$orderby=displayName desc` on a default query (microsoftgraph/microsoft-graph-docs#127),
 * and the emulator refuses it unless the request carries `ConsistencyLevel: eventual` and `$count=true`.
 * Counted on the wire: one list request per page, every page with the header, no `$expand` (advanced
 * queries cannot expand), the managers read through `$batch` as for any advanced list.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { recordingUpstream } from '../support/recording-upstream.js';

let gw: TestGateway;
let users: UserRecord[];
const sent: Array<{ url: URL; headers: Headers }> = [];

beforeAll(async () => {
  gw = await startTestGateway({
    upstream: recordingUpstream((url, init) =>
      sent.push({ url: new URL(url), headers: new Headers(init.headers as ConstructorParameters<typeof Headers>[0]) }),
    ),
  });
  users = [...gw.emulator.tenant.users.values()];
  await gw.graphql('{ users(first: 1) { nodes { id } } }');
});
afterAll(async () => {
  await gw?.close();
});
beforeEach(async () => {
  sent.length = 0;
  await gw.emulator.resetStats();
});

const listRequests = () => sent.filter((s) => s.url.pathname.endsWith('/v1.0/users'));
const byName = (a: string, b: string) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0);

describe('users ordered DESC', () => {
  it('is one advanced request per page (header and $count=true, no $expand); managers still resolve; the next page carries the header again', async () => {
    const query = `query($after: String) {
      users(first: 30, after: $after, orderBy: { field: DISPLAY_NAME, direction: DESC }) {
        nodes { id displayName manager { id displayName } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    const expected = users.map((u) => u.displayName!).sort((a, b) => byName(b, a));

    const first = await gw.graphql(query);
    expect(first.errors).toBeUndefined();
    const names: string[] = first.data!.users.nodes.map((u: { displayName: string }) => u.displayName);
    expect(names.map((n) => n.toLowerCase())).toEqual(expected.slice(0, 30).map((n) => n.toLowerCase()));
    for (const node of first.data!.users.nodes as Array<{ id: string; manager: { id: string } | null }>) {
      const record = gw.emulator.tenant.users.get(node.id)!;
      expect(node.manager?.id ?? null).toBe(record.managerId);
    }
    const [list] = listRequests();
    expect(listRequests()).toHaveLength(1);
    expect(list!.url.searchParams.get('$orderby')).toBe('displayName desc');
    expect(list!.url.searchParams.get('$count')).toBe('true');
    expect(list!.url.searchParams.has('$expand')).toBe(false);
    expect(list!.headers.get('consistencylevel')).toBe('eventual');
    // The list, then each user's manager as `GET /users/{id}/manager` items of `$batch` (20 a batch), as
    // for any advanced list: 1 + ceil(30 / 20) requests, where ascending order costs one.
    expect(sent.map((s) => s.url.pathname)).toEqual(['/v1.0/users', '/v1.0/$batch', '/v1.0/$batch']);
    expect((await gw.emulator.stats()).graphRequests).toBe(3);

    sent.length = 0;
    const second = await gw.graphql(query, { after: first.data!.users.pageInfo.endCursor });
    expect(second.errors).toBeUndefined();
    const more: string[] = second.data!.users.nodes.map((u: { displayName: string }) => u.displayName);
    expect(more.map((n) => n.toLowerCase())).toEqual(expected.slice(30, 60).map((n) => n.toLowerCase()));
    const [next] = listRequests();
    expect(listRequests()).toHaveLength(1);
    expect(next!.url.searchParams.get('$skiptoken')).toBeTruthy();
    expect(next!.headers.get('consistencylevel')).toBe('eventual');
  });

  it('ascending order stays a default query that expands the manager in the same request', async () => {
    const result = await gw.graphql('{ users(first: 30, orderBy: { field: DISPLAY_NAME, direction: ASC }) { nodes { displayName manager { displayName } } } }');
    expect(result.errors).toBeUndefined();
    const [list] = listRequests();
    expect(list!.url.searchParams.get('$orderby')).toBe('displayName');
    expect(list!.url.searchParams.has('$count')).toBe(false);
    expect(list!.url.searchParams.get('$expand')).toMatch(/^manager/);
    expect(list!.headers.get('consistencylevel')).toBeNull();
    expect((await gw.emulator.stats()).graphRequests).toBe(1);
  });
});
