import { decodeJwt } from 'jose';
import { isGuid } from '../guid.js';

/**
 * Whether a Graph access token the hosted broker answered names another tenant than the one the
 * operator consented (BROKER_TOKEN, the tenant id: docs/identity.md#hosted-broker).
 *
 * The broker is another party's service holding consent in many tenants; what it answers is used
 * as the gateway's Graph identity for every caller. A broker that is compromised, or that mixes up
 * its registrations, could hand this gateway a working Graph token of some other tenant: Graph would
 * then serve that tenant's directory to this gateway's callers, and write their createUser (initial
 * password included) and updateUser there (docs/security.md#the-broker-answers-for-one-tenant).
 *
 * The token is read, not verified, and only to refuse: Microsoft says a client should not validate
 * or depend on the format of tokens for an API it does not own, since they may change or be
 * encrypted (docs/graph-facts.md#graph-access-tokens-seen-by-a-client). So a token that cannot be
 * read, or names no `tid`, is not refused here (Graph remains its judge); one whose `tid` can be
 * read and is another tenant's is. A BROKER_TOKEN that is not a GUID names no tenant to compare.
 */
export function brokerTokenNamesAnotherTenant(accessToken: string, brokerTenant: string): boolean {
  if (!isGuid(brokerTenant)) return false;
  let tid: unknown;
  try {
    tid = decodeJwt(accessToken).tid;
  } catch {
    return false;
  }
  if (typeof tid !== 'string') return false;
  return tid.toLowerCase() !== brokerTenant.toLowerCase();
}
