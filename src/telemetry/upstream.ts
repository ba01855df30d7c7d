import { context, propagation } from '@opentelemetry/api';
import type { RequestInit } from 'undici';
import type { UpstreamHttp, UpstreamRequestInit } from '../http/upstream.js';
import { currentOperation } from './state.js';

/**
 * Outgoing side of tracing, for Graph, login and broker calls alike (they share one HTTP layer):
 *
 * - Every Graph request carries the W3C `traceparent`/`tracestate` of its exchange span, so a
 *   collector behind GRAPH_ENDPOINT (the embedded emulator, a proxy of your own) links its spans to
 *   the operation's. Microsoft Graph documents no use of them: the ids its support traces a call by
 *   are `client-request-id` and `request-id` (docs/graph-facts.md#errors-and-request-ids), which the
 *   exchange span records as attributes. The trace context holds random ids and sampling flags only.
 * - Other hosts (a broker, the sandbox's login endpoint) get it too, except Microsoft's login hosts:
 *   a token request is not part of a trace anyone at Microsoft reads, so they get nothing extra.
 * - Every request to Graph counts towards the traced operation's `gateway.upstream_requests`.
 *
 * Installed only while tracing is on (src/app.ts); off, the HTTP layer is used as it is.
 */
export function withTraceContext(upstream: UpstreamHttp, options: { graphEndpoint: string }): UpstreamHttp {
  // Graph's versioned roots only: in the sandbox the login endpoint shares the emulator's origin.
  const graphRoots = ['/v1.0/', '/beta/'].map((version) => `${options.graphEndpoint.replace(/\/+$/, '')}${version}`);
  const outgoing = (url: string, headers: Record<string, string> | undefined): Record<string, string> | undefined => {
    const operation = currentOperation();
    const toGraph = graphRoots.some((root) => url.startsWith(root));
    if (operation && toGraph) operation.upstreamRequests += 1;
    if (!toGraph && !sendsTraceContextTo(url)) return headers;
    const carrier: Record<string, string> = { ...headers };
    propagation.inject(context.active(), carrier);
    return carrier;
  };
  return {
    dispatcher: upstream.dispatcher,
    fetch: (url, init = {}) => {
      const headers = outgoing(String(url), plainHeaders(init.headers));
      return upstream.fetch(url, { ...init, ...(headers ? { headers } : {}) });
    },
    ...(upstream.request
      ? {
          request: (url: string, init: UpstreamRequestInit = {}) => {
            const headers = outgoing(url, init.headers);
            return upstream.request!(url, { ...init, ...(headers ? { headers } : {}) });
          },
        }
      : {}),
    close: () => upstream.close(),
  };
}

/**
 * Registrable domains of Microsoft's login and Graph hosts in every national cloud
 * (docs/graph-facts.md#national-clouds), and of the older login hosts MSAL may still reach.
 */
const MICROSOFT_DOMAINS = [
  'microsoft.com',
  'microsoftonline.com',
  'microsoft.us',
  'microsoftonline.us',
  'chinacloudapi.cn',
  'windows.net',
  'azure.com',
  'azure.us',
  'azure.cn',
  'microsoftonline.de',
  'cloudapi.de',
];

/** Whether a request to `url` that is not a Graph request carries our W3C trace context (not to a Microsoft host). */
export function sendsTraceContextTo(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return false;
  }
  return !MICROSOFT_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

/** Request headers in any form fetch takes (a record, a Headers object, pairs) as a record. */
function plainHeaders(headers: RequestInit['headers']): Record<string, string> | undefined {
  if (headers === undefined || headers === null) return undefined;
  const proto = Object.getPrototypeOf(headers) as unknown;
  if (proto === Object.prototype || proto === null) return { ...(headers as Record<string, string>) };
  return Object.fromEntries(headers as Iterable<[string, string]>);
}
