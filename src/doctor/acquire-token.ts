import type { Config } from '../config-types.js';
import { configSecrets } from '../config-secrets.js';
import { isGatewayError } from '../errors.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Logger } from '../logger.js';
import type { UpstreamHttp } from '../http/upstream.js';
import { scrubSecrets } from '../http/upstream-text.js';
import { createGraphIdentity, graphDefaultScope, graphFlowOf, tokenErrorToGatewayError } from '../identity/index.js';
import { createMsalAppFactory } from '../identity/msal-app.js';
import type { Caller, GraphIdentity, GraphTokenSource } from '../identity/types.js';
import { openTokenStore } from '../store/index.js';
import { aadstsAdvice } from './aadsts-advice.js';
import type { Check } from './report.js';
import { readTokenClaims, type TokenClaims } from './token-claims.js';

export interface DoctorIo {
  upstream: UpstreamHttp;
  logger: Logger;
  metrics: GatewayMetrics;
}

export type TokenOutcome =
  | { kind: 'token'; source: GraphTokenSource; claims: TokenClaims; check: Check; close(): Promise<void> }
  /** On-behalf-of without a caller token: the app credential was checked, nothing delegated can be. */
  | { kind: 'no-caller'; checks: Check[] }
  | { kind: 'failed'; checks: Check[] };

const NOBODY: Caller = { kind: 'anonymous', permissions: new Set() };

/** A failure message safe to print, with the advice for its AADSTS code when there is one. */
export function describeTokenFailure(flow: string, error: unknown, secrets: readonly string[]): string {
  const mapped = isGatewayError(error) ? error : tokenErrorToGatewayError(flow as Parameters<typeof tokenErrorToGatewayError>[0], error, secrets);
  // The hosted broker's own text is the operator's to read, not a caller's (src/identity/hosted-broker.ts).
  const brokerSaid = flow === 'hosted-broker' && mapped.originalError ? ` The broker said: ${mapped.originalError.message}` : '';
  const message = scrubSecrets(`${mapped.message}${brokerSaid}`, secrets);
  const advice = aadstsAdvice(message);
  return advice ? `${message} → ${advice.code}: ${advice.advice}` : message;
}

function describeToken(flow: string, claims: TokenClaims): string {
  const who =
    claims.kind === 'app'
      ? `app-only token of app ${claims.appId ?? '?'}`
      : `delegated token of ${claims.username ?? claims.objectId ?? 'a user'} (app ${claims.appId ?? '?'})`;
  const expires = claims.expiresAt ? `, expires ${claims.expiresAt.toISOString()}` : '';
  // The hosted broker's tenant id is its Token (BROKER_TOKEN), a secret: doctor output is pasted into tickets.
  const tenant = flow === 'hosted-broker' ? "the broker registration's tenant (its id is BROKER_TOKEN: not shown)" : `tenant ${claims.tenantId ?? '?'}`;
  return `token: ${flow} obtained a Graph ${who} in ${tenant}${expires}`;
}

/**
 * Gets a Graph token exactly as the gateway would: the same Config, identity code, token cache and
 * HTTP layer. On-behalf-of acts for a calling user, so without one (`--caller-token-file`) only the
 * app's own credential can be proven, with a client-credentials request for the same app.
 */
export async function acquireGatewayToken(config: Config, io: DoctorIo, callerToken: string | undefined): Promise<TokenOutcome> {
  const flow = graphFlowOf(config);
  const secrets = [...configSecrets(config), ...(callerToken ? [callerToken] : [])];
  if (flow === 'on-behalf-of' && !callerToken) return proveAppCredential(config, io, secrets);

  let identity: GraphIdentity;
  try {
    identity = await createGraphIdentity(config, io);
  } catch (error) {
    return {
      kind: 'failed',
      checks: [{ id: 'token', status: 'failed', message: `token: ${flow} could not start: ${describeTokenFailure(flow, error, secrets)}` }],
    };
  }
  const close = async () => {
    await identity.close?.();
  };
  let caller = NOBODY;
  if (flow === 'on-behalf-of') {
    const callerClaims = readTokenClaims(callerToken!);
    if (!callerClaims || callerClaims.kind !== 'user' || !callerClaims.objectId || !callerClaims.tenantId) {
      await close();
      return {
        kind: 'failed',
        checks: [
          {
            id: 'token',
            status: 'failed',
            message:
              "token: the --caller-token-file token is not a user's access token for the gateway's API (on-behalf-of exchanges a signed-in user's token)",
          },
        ],
      };
    }
    caller = {
      kind: 'entra',
      subject: callerClaims.objectId,
      tenantId: callerClaims.tenantId,
      principal: 'user',
      permissions: new Set(),
      assertion: callerToken!,
    };
  }
  const source = identity.tokenSourceFor(caller);
  try {
    const token = await source.getAccessToken(AbortSignal.timeout(config.limits.operationTimeoutMs));
    const claims = readTokenClaims(token);
    if (!claims) {
      await close();
      return {
        kind: 'failed',
        checks: [{ id: 'token', status: 'failed', message: `token: ${flow} returned a Graph token that is not a JWT; its permissions cannot be read` }],
      };
    }
    return { kind: 'token', source, claims, check: { id: 'token', status: 'ok', message: describeToken(flow, claims) }, close };
  } catch (error) {
    await close();
    return { kind: 'failed', checks: [{ id: 'token', status: 'failed', message: `token: ${describeTokenFailure(flow, error, secrets)}` }] };
  }
}

async function proveAppCredential(config: Config, io: DoctorIo, secrets: readonly string[]): Promise<TokenOutcome> {
  const skipped: Check = {
    id: 'token',
    status: 'unchecked',
    message:
      "token: on-behalf-of acts for each calling user, so the doctor has no user token: delegated permissions and roles cannot be checked; rerun with --caller-token-file <file holding a user's access token for the gateway's API>",
  };
  const store = await openTokenStore({ ...config, cache: { kind: 'memory' } }, { identityId: 'doctor-credential-check', keepsRefreshToken: false });
  try {
    const factory = await createMsalAppFactory(config, config.selfDeployed!, { ...io, store });
    const app = factory.create();
    await app.acquireTokenByClientCredential({ scopes: [graphDefaultScope(config.graphEndpoint)], skipCache: true });
    return {
      kind: 'no-caller',
      checks: [
        skipped,
        { id: 'credential', status: 'ok', message: "credential: Entra accepts the app's credential (a client-credentials request for the same app succeeded)" },
      ],
    };
  } catch (error) {
    return {
      kind: 'failed',
      checks: [skipped, { id: 'credential', status: 'failed', message: `credential: ${describeTokenFailure('on-behalf-of', error, [...secrets])}` }],
    };
  } finally {
    await store.close();
  }
}
