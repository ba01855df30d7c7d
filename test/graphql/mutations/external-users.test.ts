import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../../src/emulator/model.js';
import { createGraphClient } from '../../../src/graph/client.js';
import { createGraphWrites } from '../../../src/graph/writes.js';
import { createUpstreamHttp, type UpstreamHttp } from '../../../src/http/upstream.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { demoAppGraphToken, startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { auditEvents, ordinaryUserPicker } from './support.js';

/**
 * Graph does not revoke the sign-in sessions of external (B2B) users (docs/graph-facts.md#revoking-sessions):
 * a revocation that reported plain success for one would be false assurance in an incident. Real
 * gateway, real sockets, the emulator tenant (which, like Graph, leaves an external user's sessions alone).
 */

let emulator: TestEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 400 });
  gw = await startTestGateway({ emulator, env: { DEPLOYMENT_MODE: 'self-deployed' } });
  await gw.graphql('{ users(first: 1) { nodes { id } } }'); // the Graph token, outside the counts below
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

beforeEach(async () => {
  await emulator.resetStats();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);
const takenGuests = new Set<string>();
function guest(): UserRecord {
  const found = [...emulator.tenant.users.values()].find(
    (u) => u.userType === 'Guest' && u.userPrincipalName.includes('#EXT#') && u.accountEnabled && !takenGuests.has(u.id),
  );
  if (!found) throw new Error('the seeded tenant has no enabled guest left');
  takenGuests.add(found.id);
  return found;
}

const TERMINATE = `mutation Contain($u: ID!) { terminateSession(input: { user: $u }) { succeeded steps { step outcome caveat } } }`;
const REVOKE = `mutation Revoke($u: ID!) { revokeSignInSessions(input: { user: $u }) { revoked caveat } }`;

describe('terminateSession on an external user', () => {
  it('says the sessions were not revoked, disables the account, and puts the caveat in the audit trail: one $batch', async () => {
    const target = guest();
    const validFrom = target.signInSessionsValidFromDateTime;
    const result = await gw.graphql(TERMINATE, { u: target.id });
    expect(result.errors).toBeUndefined();
    const [revoke, disable] = result.data!.terminateSession.steps;
    expect(revoke).toMatchObject({ step: 'REVOKE_SESSIONS', outcome: 'SUCCEEDED' });
    expect(revoke.caveat).toMatch(/external \(B2B\) user: Microsoft Graph does not revoke the sign-in sessions of external users/);
    expect(disable).toEqual({ step: 'DISABLE_ACCOUNT', outcome: 'SUCCEEDED', caveat: null });
    expect(target.accountEnabled).toBe(false);
    // The emulator, like Graph, left the external user's sessions alone.
    expect(target.signInSessionsValidFromDateTime).toBe(validFrom);

    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(stats.batch.itemsByRoute).toEqual({ 'POST /v1.0/users/{id}/revokeSignInSessions': 1, 'PATCH /v1.0/users/{id}': 1, 'GET /v1.0/users/{id}': 1 });

    const event = auditEvents(gw)
      .filter((e) => e.operationName === 'Contain')
      .pop()!;
    expect(event.steps[0]).toMatchObject({ step: 'REVOKE_SESSIONS', outcome: 'SUCCEEDED', caveat: revoke.caveat });
    expect(event.steps[1].caveat).toBeUndefined();
  });

  it('a member: no caveat, and the sessions were revoked', async () => {
    const target = ordinaryUser();
    const validFrom = target.signInSessionsValidFromDateTime;
    await new Promise((r) => setTimeout(r, 1100)); // whole-second granularity
    const result = await gw.graphql(TERMINATE, { u: target.userPrincipalName });
    expect(result.errors).toBeUndefined();
    expect(result.data!.terminateSession.steps.map((s: any) => s.caveat)).toEqual([null, null]);
    expect(target.signInSessionsValidFromDateTime > validFrom).toBe(true);
  });
});

describe('revokeSignInSessions', () => {
  it('an external user: revoked is false and the caveat says why; one $batch with the lookup', async () => {
    const target = guest();
    const result = await gw.graphql(REVOKE, { u: target.userPrincipalName });
    expect(result.errors).toBeUndefined();
    expect(result.data!.revokeSignInSessions.revoked).toBe(false);
    expect(result.data!.revokeSignInSessions.caveat).toMatch(/does not revoke the sign-in sessions of external users/);
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(stats.batch.items).toBe(2);
    const event = auditEvents(gw)
      .filter((e) => e.operationName === 'Revoke')
      .pop()!;
    expect(event.steps).toEqual([
      expect.objectContaining({ step: 'REVOKE_SESSIONS', outcome: 'SUCCEEDED', caveat: expect.stringContaining('external (B2B)') }),
    ]);
  });

  it('a member: revoked, no caveat', async () => {
    const target = ordinaryUser();
    const result = await gw.graphql(REVOKE, { u: target.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.revokeSignInSessions).toEqual({ revoked: true, caveat: null });
  });
});

describe('an identity that may revoke but not read users', () => {
  let http: UpstreamHttp;
  beforeAll(() => {
    http = createUpstreamHttp({ extraCaPem: [emulator.caCertPem] });
  });
  afterAll(async () => {
    await http?.close();
  });

  it('revokes, and says it could not check whether the user is external (the lookup was not repeated)', async () => {
    // Least privilege for containment: User.RevokeSessions.All and nothing that reads users.
    const token = await demoAppGraphToken(emulator, ['User.RevokeSessions.All']);
    const quiet = new Writable({ write: (_chunk, _encoding, cb) => cb() });
    const graph = createGraphClient({
      upstream: http,
      tokenSource: { partition: 'revoke-only', getAccessToken: async () => token },
      graphEndpoint: emulator.graphEndpoint,
      logger: createLogger({ level: 'silent', destination: quiet }),
      metrics: createMetrics({ defaultMetrics: false }),
      correlationId: 'external-users',
    });
    const writes = createGraphWrites({ graph, graphEndpoint: emulator.graphEndpoint });
    const target = guest();
    const outcome = await writes.revokeSignInSessions(target.id);
    expect(outcome.succeeded).toBe(true);
    if (!outcome.succeeded) return;
    expect(outcome.value.revoked).toBe(true);
    expect(outcome.value.caveat).toBe(
      'Whether the user is an external (B2B) user could not be checked (FORBIDDEN): Microsoft Graph does not revoke the sign-in sessions of external users.',
    );
    const stats = await emulator.stats();
    expect(stats.batch.itemsByRoute).toEqual({ 'POST /v1.0/users/{id}/revokeSignInSessions': 1, 'GET /v1.0/users/{id}': 1 });
  });
});
