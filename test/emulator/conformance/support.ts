/**
 * Conformance suite setup: one emulator per file, reached over HTTPS on loopback, called either
 * as an app (every Graph application permission, service principal holding `directoryRoles`)
 * or with any token minted by the emulator's own key. Each test names the Microsoft source of
 * the behaviour it pins (see docs/graph-facts.md, one test file per section).
 */
import type { TestEmulator } from '../../support/emulator.js';
import type { UserRecord } from '../../../src/emulator/model.js';
import { relativeUrl, type GraphPath } from '../../../src/graph/paths.js';
import { createGraphClient, type GraphClient } from '../../../src/graph/client.js';
import { createUpstreamHttp } from '../../../src/http/upstream.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { EVENTUAL, type graphCaller, mintToken, startEmulatorAsApp, USER_ADMIN_APP_ID, type GraphResult } from '../graph/graph-client.js';

export { EVENTUAL, mintToken, type GraphResult };

export interface Conformance {
  emulator: TestEmulator;
  graph: ReturnType<typeof graphCaller>;
  users: UserRecord[];
  /**
   * The gateway's own Graph client (src/graph/client.ts) over real sockets, acting as the suite's
   * app (or with `roles`): what its request builders and `$batch` executor send is what reaches
   * the emulator. No retries, so a refusal is seen as Graph gave it.
   */
  gatewayClient(roles?: string[]): Promise<GraphClient>;
  close(): Promise<void>;
}

export async function startConformance(
  directoryRoles: string[] = ['User Administrator'],
  options: { userCount?: number; now?: () => number } = {},
): Promise<Conformance> {
  const { emulator, graph } = await startEmulatorAsApp(directoryRoles, options);
  const http = createUpstreamHttp({ extraCaPem: [emulator.caCertPem] });
  const gatewayClient = async (roles?: string[]): Promise<GraphClient> => {
    const token = await mintToken(emulator, { appid: USER_ADMIN_APP_ID, ...(roles ? { roles } : {}) });
    return createGraphClient({
      upstream: http,
      tokenSource: { partition: `conformance:${roles?.join(',') ?? 'all'}`, getAccessToken: async () => token },
      graphEndpoint: emulator.graphEndpoint,
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics({ defaultMetrics: false }),
      correlationId: 'conformance',
      maxRetries: 0,
    });
  };
  return {
    emulator,
    graph,
    users: [...emulator.tenant.users.values()],
    gatewayClient,
    close: async () => {
      await http.close();
      await emulator.close();
    },
  };
}

/** The `/v1.0` URL the gateway would send for a path it built, with its own query encoding. */
export function gatewayUrl(path: GraphPath, query?: Record<string, string | undefined>): string {
  return `/v1.0${relativeUrl(path, query)}`;
}

/** A `$filter` query string, percent-encoded the way the gateway encodes query values. */
export function filterQuery(filter: string, extra = ''): string {
  return `?$filter=${encodeURIComponent(filter)}${extra}`;
}

/** Asserts Graph's error shape (docs/graph-facts.md#errors-and-request-ids) and returns the code. */
export function graphErrorCode(res: GraphResult): string {
  const error = res.body?.error;
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string') {
    throw new Error(`not a Graph error body (HTTP ${res.status}): ${res.text.slice(0, 200)}`);
  }
  return error.code;
}

/**
 * Distinct plain users for the tests of a file (enabled members without an admin role, never the
 * tenant's admin), so that one test's write never changes another's user; `extra` narrows the choice.
 */
export function plainUserPicker(c: () => Conformance): ((extra?: (u: UserRecord) => boolean) => UserRecord) & { taken: ReadonlySet<string> } {
  const taken = new Set<string>();
  const pick = (extra: (u: UserRecord) => boolean = () => true): UserRecord => {
    const conformance = c();
    const user = conformance.users.find(
      (u) =>
        !taken.has(u.id) &&
        u.accountEnabled &&
        u.userType === 'Member' &&
        u._directoryRoles.length === 0 &&
        u.id !== conformance.emulator.tenant.wellKnown.adminUserId &&
        extra(u),
    );
    if (!user) throw new Error('no plain user left');
    taken.add(user.id);
    return user;
  };
  // The users handed out so far (a test that must not meet another test's writes skips them).
  return Object.assign(pick, { taken });
}
