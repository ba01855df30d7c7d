import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/**
 * The address of the client a request came from, for the failed-authentication limit and the logs
 * (docs/security.md#client-address). Without TRUSTED_PROXIES it is the TCP peer and
 * `X-Forwarded-For` is ignored: anyone can write that header, so trusting it by default would let a
 * guesser pick a fresh address for every guess. With TRUSTED_PROXIES, the header is walked from the
 * right, through the trusted hops only: the first address not in the list is the client. An address
 * a client prepends itself lies left of that and is never reached.
 *
 * proxy-addr (Express's implementation of exactly this walk, with IPv4/IPv6 CIDR matching) rather than
 * our own parsing: the walk has subtle cases (IPv4-mapped IPv6 peers, malformed entries, empty hops)
 * that it already handles.
 *
 * Never used for the loopback check of CALLER_AUTH=none: that one is about the TCP peer itself.
 */
export type ClientAddressOf = (req: IncomingMessage) => string | undefined;

/** Names proxy-addr understands besides addresses and CIDRs. */
export const TRUSTED_PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'] as const;

/** Throws a TypeError naming the entry that is neither an address, a CIDR nor one of TRUSTED_PROXY_NAMES. */
export function compileTrustedProxies(entries: readonly string[]): (address: string, hop: number) => boolean {
  return proxyaddr.compile([...entries]);
}

export function clientAddressResolver(trustedProxies: readonly string[]): ClientAddressOf {
  if (trustedProxies.length === 0) return (req) => req.socket.remoteAddress;
  const trust = compileTrustedProxies(trustedProxies);
  return (req) => (req.socket.remoteAddress === undefined ? undefined : proxyaddr(req, trust));
}
