import { context, propagation } from '@opentelemetry/api';
import type { RequestInit } from 'undici';
import type { UpstreamHttp, UpstreamRequestInit } from '../http/upstream.js';
import { currentOperation } from './state.js';

/**
 * Outgoing side of tracing, for Graph, login and broker calls alike (they share one HTTP layer):
 *
 * - `traceparent`/`tracestate` of the current span go to hosts that are not Microsoft's: the
 *   embedded emulator, a broker, a proxy or an endpoint of your own, where they link spans of your
 *   own. Microsoft Graph and Entra ID get none: they do not document W3C trace context, and the id
 *   Microsoft support traces a call by is `client-request-id` (with `request-id`), which every Graph
 *   call carries anyway (docs/graph-facts.md#errors-and-request-ids). Sending them would hand a
 *   third party the trace ids of your callers for no use.
 * - Every request to Graph counts towards the traced operation's `gateway.upstream_requests`.
 *
 * Installed only while tracing is on (src/app.ts); off, the HTTP layer is used as it is.
 */
export function withTraceContext(upstream: UpstreamHttp, options: { graphEndpoint: string }): UpstreamHttp {
  const graphPrefix = `${options.graphEndpoint.replace(/\/+$/, '')}/`;
  const outgoing = (url: string, headers: Record<string, string> | undefined): Record<string, string> | undefined => {
    const operation = currentOperation();
    if (operation && url.startsWith(graphPrefix)) operation.upstreamRequests += 1;
    if (!sendsTraceContextTo(url)) return headers;
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

/** Whether a request to `url` may carry our W3C trace context (not to a Microsoft host). */
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
