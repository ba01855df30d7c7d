import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/**
 * Whether the browser reached the gateway over HTTPS. The gateway itself only listens on plain
 * HTTP: TLS ends at a reverse proxy (an ingress, a load balancer), and only that proxy knows the
 * scheme the client used. It says so in `X-Forwarded-Proto`, which every common one writes
 * (Azure Application Gateway, ingress-nginx, AWS ALB, Envoy, Traefik).
 *
 * Believed only from a TCP peer in TRUSTED_PROXIES, the one list of proxies whose forwarding
 * headers the gateway reads (src/http/client-address.ts), and only when every entry says `https`:
 * a proxy that appends instead of overwriting turns a client's own `https` sent over plain HTTP
 * into `https, http`, which is not believed. Without TRUSTED_PROXIES it is never HTTPS: the TCP
 * peer is the client and spoke plain HTTP.
 */
export type ServedOverHttps = (req: IncomingMessage) => boolean;

export function servedOverHttpsResolver(trustedProxies: readonly string[]): ServedOverHttps {
  if (trustedProxies.length === 0) return () => false;
  const trust = proxyaddr.compile([...trustedProxies]);
  return (req) => {
    const peer = req.socket.remoteAddress;
    if (peer === undefined || !trust(peer, 0)) return false;
    const header = req.headers['x-forwarded-proto'];
    if (header === undefined) return false;
    const entries = (Array.isArray(header) ? header.join(',') : header).split(',').map((entry) => entry.trim().toLowerCase());
    return entries.every((entry) => entry === 'https');
  };
}
