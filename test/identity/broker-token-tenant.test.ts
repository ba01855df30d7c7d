import { describe, expect, it } from 'vitest';
import { brokerTokenNamesAnotherTenant } from '../../src/identity/broker-token-tenant.js';

/**
 * Which broker answers are refused for their tenant (docs/security.md#the-broker-answers-for-one-tenant):
 * only a token whose `tid` can be read and names another tenant. The token is Graph's, whose format
 * is Microsoft's to change (docs/graph-facts.md#graph-access-tokens-seen-by-a-client), so what
 * cannot be read is left to Graph.
 */
const OURS = '6f1c2a6e-3b1d-4c4f-9a51-0c2d6b7e8f90';
const THEIRS = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';
const jwt = (payload: Record<string, unknown>) =>
  [{ alg: 'RS256', typ: 'JWT' }, payload].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.') + '.c2ln';

describe('brokerTokenNamesAnotherTenant', () => {
  it("refuses a readable token of another tenant, in any letter case of BROKER_TOKEN's", () => {
    expect(brokerTokenNamesAnotherTenant(jwt({ tid: THEIRS }), OURS)).toBe(true);
    expect(brokerTokenNamesAnotherTenant(jwt({ tid: THEIRS }), OURS.toUpperCase())).toBe(true);
  });

  it("accepts the consented tenant's token, whatever the letter case", () => {
    expect(brokerTokenNamesAnotherTenant(jwt({ tid: OURS }), OURS)).toBe(false);
    expect(brokerTokenNamesAnotherTenant(jwt({ tid: OURS.toUpperCase() }), OURS)).toBe(false);
  });

  it('leaves to Graph what it cannot read: an opaque or encrypted token, or one without tid', () => {
    expect(brokerTokenNamesAnotherTenant('EwBwA8l6BAAU-opaque-token', OURS)).toBe(false);
    expect(brokerTokenNamesAnotherTenant('a.b.c', OURS)).toBe(false);
    expect(brokerTokenNamesAnotherTenant(jwt({ aud: 'https://graph.microsoft.com' }), OURS)).toBe(false);
  });

  it('compares nothing when BROKER_TOKEN is not a tenant id (a GUID)', () => {
    expect(brokerTokenNamesAnotherTenant(jwt({ tid: THEIRS }), 'not-a-guid-token')).toBe(false);
  });
});
