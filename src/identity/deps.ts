import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { UpstreamHttp } from '../http/upstream.js';
import type { TokenStore } from '../store/token-store.js';

/** What every Graph identity needs from the process (all I/O injected). */
export interface GraphIdentityDeps {
  logger: Logger;
  metrics: GatewayMetrics;
  upstream: UpstreamHttp;
  store: TokenStore;
  now?: () => number;
}
