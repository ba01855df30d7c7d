/**
 * Contracts between caller authentication, Graph token acquisition and the rest of the gateway.
 * Kept in one small file so the Graph client, resolvers and identity flows depend on shapes, not
 * on each other's implementations.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Permission } from '../permissions.js';

// The permission set lives in src/permissions.ts; re-exported here for modules that still import it from identity.
export { Permission } from '../permissions.js';

/** Who is calling the gateway, established once per HTTP request. */
export type Caller =
  | { kind: 'anonymous'; permissions: ReadonlySet<Permission> } // CALLER_AUTH=none, loopback only
  | { kind: 'api-key'; keyId: string; permissions: ReadonlySet<Permission> }
  | {
      kind: 'entra';
      /** Object id (`oid`) of the user or service principal in the caller token. */
      subject: string;
      tenantId: string;
      /**
       * Hosted mode: `tenantId` is the broker's Token (BROKER_TOKEN), a secret, so it is never
       * written out (the audit event leaves it out: every Entra caller is of that one tenant anyway).
       */
      tenantIsSecret?: true;
      /** `app` for app-only tokens (roles), `user` for delegated tokens (scp). */
      principal: 'user' | 'app';
      permissions: ReadonlySet<Permission>;
      /** The raw bearer token, needed only for the on-behalf-of exchange. Never logged. */
      assertion: string;
    };

/**
 * Containments of users, whose caller tokens issued before are refused (src/identity/caller-revocations.ts;
 * docs/security.md#contained-users-caller-tokens). Keyed by the user's object id (`oid`).
 */
export interface CallerRevocations {
  /** Records that the user was contained at `revokedAtMs`; false when only this process holds the record (Redis did not answer). */
  revoke(objectId: string, revokedAtMs: number): Promise<boolean>;
  /** When the user was last contained (ms), while tokens issued before can still be valid; undefined otherwise. */
  revokedAt(objectId: string): Promise<number | undefined>;
}

/**
 * Hands out Graph access tokens for one caller. `partition` names the Graph identity the token
 * belongs to: equal partitions may share upstream requests and cached data, different ones never.
 */
export interface GraphTokenSource {
  readonly partition: string;
  /** A valid access token (cached, single-flight, renewed ahead of expiry). */
  getAccessToken(signal?: AbortSignal): Promise<string>;
  /** Drop the cached token (after Graph answered 401 with it). */
  invalidate?(): void;
}

/** Builds the token source for a caller; process-wide, created once from Config. */
export interface GraphIdentity {
  readonly kind: 'client-credentials' | 'authorization-code' | 'on-behalf-of' | 'hosted-broker';
  /** True when the Graph identity is a user (delegated): `Query.me` works. */
  readonly delegated: boolean;
  tokenSourceFor(caller: Caller): GraphTokenSource;
  /** Can a token be obtained right now? Used by /readyz. */
  probe(signal?: AbortSignal): Promise<boolean>;
  close?(): Promise<void>;
}

/**
 * Establishes the Caller of one HTTP request; throws GatewayError(UNAUTHENTICATED) on bad credentials,
 * and BAD_USER_INPUT (reason AMBIGUOUS_CREDENTIALS) when the request carries more than one
 * (src/identity/credential-headers.ts). `rawHeaders` (Node's) shows repeated headers, which `headers` folds.
 */
export interface CallerAuthenticator {
  authenticate(request: {
    headers: Record<string, string | string[] | undefined>;
    rawHeaders?: readonly string[];
    remoteAddress: string | undefined;
  }): Promise<Caller>;
}

/**
 * What an auth route did: `false` when the path is not one of them (or not for this identity),
 * `handled` when it answered, `signed-in` when it answered and the Graph identity every caller is
 * served as was replaced (a completed sign-in). Only the last is a reason to probe readiness again:
 * anyone can request `/auth/callback`, and a probe is an upstream call (src/server.ts).
 */
export type AuthRouteOutcome = false | 'handled' | 'signed-in';

/** Extra HTTP routes owned by the identity layer (`/auth/login`, `/auth/callback`). */
export type AuthRouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<AuthRouteOutcome>;
