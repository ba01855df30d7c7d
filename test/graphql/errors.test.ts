import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config-types.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/** Every error code a read query can produce, each on a real case against the emulator. */
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
  await gw.graphql('{ users(first: 1) { nodes { id } } }');
});
afterAll(async () => {
  await gw?.close();
});
beforeEach(async () => {
  await gw.emulator.resetStats();
});

const codes = (r: { errors?: Array<{ extensions?: Record<string, any> }> }) => (r.errors ?? []).map((e) => e.extensions?.code);

describe('BAD_USER_INPUT before any upstream call', () => {
  it.each([0, -1, 1000])('rejects first: %i', async (first) => {
    const result = await gw.graphql('query($first: Int) { users(first: $first) { nodes { id } } }', { first });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.message).toContain('between 1 and 999');
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('rejects a tampered cursor', async () => {
    const page = await gw.graphql('{ users(first: 2) { pageInfo { endCursor } } }');
    const cursor: string = page.data!.users.pageInfo.endCursor;
    // A cursor is sealed (src/graphql/cursor.ts): `v2.` + base64url(nonce ‖ ciphertext ‖ tag). Flip one byte of the ciphertext.
    expect(cursor.startsWith('v2.')).toBe(true);
    const bytes = Buffer.from(cursor.slice('v2.'.length), 'base64url');
    bytes[12]! ^= 1;
    const altered = `v2.${bytes.toString('base64url')}`;
    const truncated = `v2.${bytes.subarray(0, bytes.length - 16).toString('base64url')}`;
    // The earlier formats with a link of the attacker's: signed-only with a signature that is not ours, and encrypted with bytes that are not.
    const payload = { v: 1, kind: 'users:x', nextLink: 'https://attacker.example/v1.0/users?$skiptoken=x', skip: 0, advanced: false };
    const signature = bytes.subarray(-32).toString('base64url');
    const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
    const forgedEncrypted = [bytes.subarray(0, 12), bytes.subarray(12, -16), bytes.subarray(-16)].map((part) => part.toString('base64url')).join('.');
    await gw.emulator.resetStats();
    for (const after of [altered, truncated, forged, forgedEncrypted, 'not-a-cursor', '']) {
      const result = await gw.graphql('query($after: String) { users(first: 2, after: $after) { nodes { id } } }', { after });
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    }
    expect((await gw.emulator.stats()).totalRequests).toBe(0);
  });

  it('rejects a cursor of another list or another filter (foreign cursor)', async () => {
    const manager = [...gw.emulator.tenant.users.values()].find((u) => [...gw.emulator.tenant.users.values()].filter((r) => r.managerId === u.id).length > 2)!;
    const reports = await gw.graphql(`{ user(id: "${manager.id}") { directReports(first: 1) { pageInfo { endCursor } } } }`);
    const reportsCursor = reports.data!.user.directReports.pageInfo.endCursor;
    const filtered = await gw.graphql('{ users(first: 1, filter: { accountEnabled: true }) { pageInfo { endCursor } } }');
    const filteredCursor = filtered.data!.users.pageInfo.endCursor;
    await gw.emulator.resetStats();
    const a = await gw.graphql('query($after: String) { users(first: 1, after: $after) { nodes { id } } }', { after: reportsCursor });
    const b = await gw.graphql('query($after: String) { users(first: 1, after: $after, filter: { accountEnabled: false }) { nodes { id } } }', {
      after: filteredCursor,
    });
    expect(codes(a)).toEqual(['BAD_USER_INPUT']);
    expect(codes(b)).toEqual(['BAD_USER_INPUT']);
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it.each(['a/b', 'x y@contoso.example', "robert'); drop", 'users?$top=1', 'ünï@contoso.example', 'a+b@contoso.example', '../me'])(
    'rejects the malformed id %j',
    async (id) => {
      const result = await gw.graphql('query($id: ID!) { user(id: $id) { id } }', { id });
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect((await gw.emulator.stats()).graphRequests).toBe(0);
    },
  );

  it('rejects filters Graph cannot take', async () => {
    // 60 ids make a URL past the 2,048 characters Graph accepts (16 would go as an advanced query).
    const tooMany = Array.from({ length: 60 }, () => randomUUID());
    const result = await gw.graphql('query($ids: [ID!]) { users(filter: { ids: $ids }) { nodes { id } } }', { ids: tooMany });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.message).toMatch(/2048/);
    const notGuid = await gw.graphql('{ users(filter: { ids: ["nope"] }) { nodes { id } } }');
    expect(codes(notGuid)).toEqual(['BAD_USER_INPUT']);
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('reports GraphQL validation problems as BAD_USER_INPUT with the reason', async () => {
    const result = await gw.graphql('{ users { nodes { noSuchField } } }');
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.extensions!.reason).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('missing users', () => {
  it('answers null for a user that does not exist, by GUID and by UPN', async () => {
    const result = await gw.graphql(`{ a: user(id: "${randomUUID()}") { id } b: user(id: "nobody.here@contoso.example") { id } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ a: null, b: null });
  });
});

describe('HTTP-level problems', () => {
  it('answers broken JSON with 400 INVALID_JSON, never 500', async () => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": "{ users' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_JSON' });
  });

  it('answers an oversized body with 413', async () => {
    const big = JSON.stringify({ query: `{ users { nodes { id } } } # ${'x'.repeat(gw.config.limits.maxBodyBytes)}` });
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].extensions.reason).toBe('PAYLOAD_TOO_LARGE');
  });

  it('keeps CSRF prevention on: a simple-request GET without a preflight header is refused', async () => {
    const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ users(first: 1) { nodes { id } } }')}`);
    expect(res.status).toBe(400);
    const ok = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ users(first: 1) { nodes { id } } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(ok.status).toBe(200);
    // A GET answer is directory data for one caller: never stored by a shared cache, never sniffed.
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('echoes a sane x-correlation-id and replaces an unsafe one', async () => {
    const sane = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'abc-12345678' },
      body: '{"query":"{ __typename }"}',
    });
    expect(sane.headers.get('x-correlation-id')).toBe('abc-12345678');
    const unsafe = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'has spaces "and quotes"' },
      body: '{"query":"{ __typename }"}',
    });
    expect(unsafe.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('limits operation complexity with OPERATION_TOO_COMPLEX', async () => {
    let deep = 'id';
    for (let i = 0; i < 12; i += 1) deep = `manager { ${deep} }`;
    const result = await gw.graphql(`{ users(first: 1) { nodes { ${deep} } } }`);
    expect(codes(result)).toEqual(['OPERATION_TOO_COMPLEX']);
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });
});

describe('upstream failures', () => {
  it('maps Graph 429 to THROTTLED with retryAfterSeconds and the request id, no upstream body', async () => {
    const noRetry = await startTestGateway({ emulator: gw.emulator, env: { MAX_RETRIES: '0' } });
    try {
      await noRetry.graphql('{ users(first: 1) { nodes { id } } }'); // token first, before the faults
      await gw.emulator.setFaults({ throttleRate: 1, retryAfterSeconds: 1 });
      const result = await noRetry.graphql('{ users(first: 1) { nodes { id } } }');
      expect(codes(result)).toEqual(['THROTTLED']);
      const error = result.errors![0]!;
      expect(error.extensions!.retryAfterSeconds).toBe(1);
      expect(typeof error.extensions!.requestId).toBe('string');
      expect(JSON.stringify(result)).not.toMatch(/TooManyRequests.*innerError|stack/i);
    } finally {
      await gw.emulator.setFaults({ throttleRate: 0 });
      await noRetry.close();
    }
  });

  // The read-only app holds User.Read.All alone: Graph lists a user's groups and devices to it with
  // their type and id only (docs/graph-facts.md#manager-and-bulk-lookup, "Limited information"), which
  // the gateway answers as it would a 403.
  it('answers FORBIDDEN for groups and devices Graph lists with limited information to the read-only app (User.Read.All alone)', async () => {
    const readOnly = await startTestGateway({
      emulator: gw.emulator,
      configure: (config) => ({
        ...config,
        selfDeployed: {
          ...config.selfDeployed!,
          clientId: gw.emulator.tenant.wellKnown.readOnlyAppId,
          credential: { kind: 'secret', secret: new Secret(gw.emulator.tenant.wellKnown.readOnlyAppSecret) },
        },
      }),
    });
    try {
      const target = [...gw.emulator.tenant.users.values()].find((u) => u.memberOf.length > 0)!;
      const allowed = await readOnly.graphql(`{ user(id: "${target.id}") { displayName } }`);
      expect(allowed.data).toEqual({ user: { displayName: target.displayName } });
      const denied = await readOnly.graphql(`{ user(id: "${target.id}") { displayName memberOf(first: 5) { nodes { displayName } } } }`);
      expect(codes(denied)).toEqual(['FORBIDDEN']);
      expect(denied.errors![0]!.path).toEqual(['user', 'memberOf']);
      expect(typeof denied.errors![0]!.extensions!.requestId).toBe('string');
      expect(denied.errors![0]!.extensions!.graphLimitedInformation).toBe(true);
      expect(denied.errors![0]!.message).toMatch(/limited information/);
      // memberOf is nullable: the error nulls that field only, the user's own fields stay (docs/querying.md#partial-answers).
      expect(denied.data).toEqual({ user: { displayName: target.displayName, memberOf: null } });
      // Asking only for ids does not hide it: the gateway always selects displayName, which every group has.
      const idsOnly = await readOnly.graphql(`{ user(id: "${target.id}") { memberOf(first: 5) { nodes { id } } } }`);
      expect(codes(idsOnly)).toEqual(['FORBIDDEN']);
      const owner = [...gw.emulator.tenant.users.values()].find((u) => u.ownedDevices.length > 0)!;
      const devices = await readOnly.graphql(`{ user(id: "${owner.id}") { ownedDevices(first: 5) { nodes { id operatingSystem } } } }`);
      expect(codes(devices)).toEqual(['FORBIDDEN']);
      expect(devices.errors![0]!.path).toEqual(['user', 'ownedDevices']);
      expect(devices.errors![0]!.extensions!.graphLimitedInformation).toBe(true);
      // The gateway's own app reads both in full.
      const full = await gw.graphql(`{ user(id: "${owner.id}") { ownedDevices(first: 5) { nodes { id displayName } } } }`);
      expect(full.errors).toBeUndefined();
      expect((full.data as any).user.ownedDevices.nodes).toHaveLength(Math.min(5, owner.ownedDevices.length));
    } finally {
      await readOnly.close();
    }
  });

  it('refuses `me` under an app-only identity before anything is sent, naming the flows that serve it', async () => {
    await gw.emulator.resetStats();
    const result = await gw.graphql('{ me { id } users(first: 1) { nodes { id } } }');
    expect(result.status).toBe(400);
    expect(codes(result)).toEqual(['UNSUPPORTED_GRAPH_IDENTITY']);
    expect(result.errors![0]!.message).toMatch(/Query\.me needs a delegated Microsoft Graph identity.*GRAPH_AUTH_FLOW=authorization-code/);
    expect(result.data).toBeUndefined();
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('tells the caller to resync when Graph no longer knows a delta token', async () => {
    const first = await gw.graphql('{ userChanges { changed { id } nextDeltaToken } }');
    expect(first.errors).toBeUndefined();
    const token = first.data!.userChanges.nextDeltaToken;
    await gw.emulator.reset(); // a new directory epoch: Graph answers 410 Gone for old tokens
    const again = await gw.graphql('query($t: String) { userChanges(deltaToken: $t) { changed { id } nextDeltaToken } }', { t: token });
    expect(codes(again)).toEqual(['BAD_USER_INPUT']);
    expect(again.errors![0]!.message).toMatch(/without a deltaToken|full resync/i);
  });

  it('masks unexpected errors as INTERNAL_SERVER_ERROR with the correlation id, and logs the cause', async () => {
    const broken = await startTestGateway({
      emulator: gw.emulator,
      deps: {
        extraResolvers: [
          {
            Query: {
              user: () => {
                throw new TypeError('database password is hunter2');
              },
            },
          },
        ],
      },
    });
    try {
      const res = await fetch(`${broken.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-correlation-id': 'corr-mask-test-1' },
        body: JSON.stringify({ query: '{ user(id: "adele.vance@contoso.example") { id } }' }),
      });
      const body = (await res.json()) as any;
      expect(body.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
      expect(body.errors[0].message).toBe('Internal error (correlation id corr-mask-test-1)');
      expect(JSON.stringify(body)).not.toContain('hunter2');
      const logged = broken.logLines.join('');
      expect(logged).toContain('hunter2');
      expect(logged).toContain('corr-mask-test-1');
    } finally {
      await broken.close();
    }
  });
});
