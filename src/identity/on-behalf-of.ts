import { createHash } from 'node:crypto';
import type { ConfidentialClientApplication } from '@azure/msal-node';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config-types.js';
import { ErrorCode, GatewayError } from '../errors.js';
import type { Caller, GraphIdentity, GraphTokenSource } from './types.js';
import { graphDefaultScope } from './authority.js';
import { fromMsalResult, instrumentAcquisition } from './acquisition.js';
import type { GraphIdentityDeps } from './deps.js';
import type { MsalAppFactory } from './msal-app.js';
import { TokenSlot, slotTokenSource } from './token-slot.js';

/** Bounded so a long-running gateway with many callers does not grow without limit. */
const MAX_CALLER_APPS = 256;
const MAX_SOURCES = 2048;

/**
 * Graph tokens on behalf of the calling user: the caller's Entra token (audience: the gateway's
 * API) is exchanged, so Graph applies that user's own permissions. Each caller (`oid`) gets its
 * own msal application, hence its own in-memory cache (msal keys OBO tokens by a hash of the
 * assertion, and a shared in-memory cache degrades past a few hundred tokens); nothing is
 * persisted (OBO has no refresh token: after expiry the caller's assertion is exchanged again).
 */
export function createOnBehalfOfIdentity(config: Config, factory: MsalAppFactory, deps: GraphIdentityDeps): GraphIdentity {
  const now = deps.now ?? Date.now;
  const scopes = [graphDefaultScope(config.graphEndpoint)];
  const apps = new LRUCache<string, ConfidentialClientApplication>({ max: MAX_CALLER_APPS });
  const sources = new LRUCache<string, GraphTokenSource>({ max: MAX_SOURCES });

  const appFor = (oid: string): ConfidentialClientApplication => {
    let app = apps.get(oid);
    if (!app) {
      app = factory.create();
      apps.set(oid, app);
    }
    return app;
  };

  const refuse = (why: string): GraphTokenSource => ({
    partition: 'obo:refused',
    getAccessToken: async () => {
      throw new GatewayError(ErrorCode.UNAUTHENTICATED, `Graph token acquisition (on-behalf-of) needs ${why}.`);
    },
  });

  return {
    kind: 'on-behalf-of',
    delegated: true,
    tokenSourceFor(caller: Caller): GraphTokenSource {
      if (caller.kind !== 'entra') return refuse("the caller's Entra user token (set CALLER_AUTH=entra)");
      if (caller.principal !== 'user') return refuse('a token issued to a user; an app-only caller token cannot be exchanged');
      const assertionHash = createHash('sha256').update(caller.assertion).digest('base64url');
      const key = `${caller.tenantId}:${caller.subject}:${assertionHash}`;
      const existing = sources.get(key);
      if (existing) return existing;
      const oid = caller.subject;
      const assertion = caller.assertion;
      const slot = new TokenSlot(
        (forceRefresh) =>
          instrumentAcquisition('on-behalf-of', { ...deps, secrets: [...factory.secrets, assertion] }, async () =>
            fromMsalResult(await appFor(oid).acquireTokenOnBehalfOf({ oboAssertion: assertion, scopes, skipCache: forceRefresh }), now()),
          ),
        now,
      );
      // Different users never share cached Graph data; the same user's requests may.
      const source = slotTokenSource(`obo:${caller.tenantId}:${oid}`, slot);
      sources.set(key, source);
      return source;
    },
    // There is no caller to act for at readiness time: ready when the authority answers.
    probe: async () => true,
  };
}
