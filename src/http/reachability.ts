import type { UpstreamHttp } from './upstream.js';

/**
 * Readiness of the upstream itself. A cached Graph token says nothing about whether Graph answers,
 * so readiness also sends one unauthenticated GET to the Graph root: any HTTP answer (401
 * included) proves the endpoint is reachable over TLS; a connection failure or timeout does not.
 * No token is sent, so the probe costs no resource units and cannot be throttled per app.
 */
export interface ReachabilityProbeOptions {
  upstream: Pick<UpstreamHttp, 'fetch'>;
  /** e.g. `https://graph.microsoft.com` (no version). */
  graphEndpoint: string;
  /** Upper bound of one probe (default 3 s); the caller's signal can cut it shorter. */
  timeoutMs?: number;
}

export function createReachabilityProbe(options: ReachabilityProbeOptions): (signal?: AbortSignal) => Promise<boolean> {
  const url = `${options.graphEndpoint.replace(/\/+$/, '')}/v1.0/`;
  const timeoutMs = options.timeoutMs ?? 3_000;
  return async (signal) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const res = await options.upstream.fetch(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      await res.body?.cancel().catch(() => undefined);
      return true;
    } catch {
      return false;
    }
  };
}
