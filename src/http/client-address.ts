import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import proxyaddr from 'proxy-addr';

/**
 * The address of the client a request came from, for the failed-authentication limit and the logs
 * (docs/security.md#client-address). Without TRUSTED_PROXIES it is the TCP peer and
 * `X-Forwarded-For` is ignored: anyone can write that header, so trusting it by default would let a
 * guesser pick a fresh address for every guess. With TRUSTED_PROXIES, the header is walked from the
 * right, through the trusted hops only: the first address not in the list is the client. An address
 * a client prepends itself lies left of that and is never reached.
 *
 * proxy-addr (Express's) decides which hops are trusted (IPv4/IPv6 CIDR matching, IPv4-mapped
 * peers, its named ranges) rather than our own parsing; the walk itself is its walk, repeated here
 * only because its entry point reads the raw header, ports included.
 *
 * Entries that carry a port are read without it: Azure Application Gateway writes each entry as
 * `IP:port` (docs/security.md#client-address), and a client counted as `IP:port` would get a fresh
 * failure budget with every connection.
 *
 * Never used for the loopback check of CALLER_AUTH=none: that one is about the TCP peer itself.
 */
export type ClientAddressOf = (req: IncomingMessage) => string | undefined;

const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const BRACKETED_IPV6 = /^\[([0-9a-fA-F:.]+(?:%[\w.-]+)?)\](?::\d{1,5})?$/;

/** One `X-Forwarded-For` entry without its port: `203.0.113.7:5123` → `203.0.113.7`, `[2001:db8::1]:443` → `2001:db8::1`. */
export function withoutPort(entry: string): string {
  const trimmed = entry.trim();
  return IPV4_WITH_PORT.exec(trimmed)?.[1] ?? BRACKETED_IPV6.exec(trimmed)?.[1] ?? trimmed;
}

export function clientAddressResolver(trustedProxies: readonly string[]): ClientAddressOf {
  if (trustedProxies.length === 0) return (req) => req.socket.remoteAddress;
  // Addresses, CIDRs and proxy-addr's names (loopback, linklocal, uniquelocal); config has checked each.
  const trust = proxyaddr.compile([...trustedProxies]);
  return (req) => {
    const peer = req.socket.remoteAddress;
    if (peer === undefined) return undefined;
    const header = req.headers['x-forwarded-for'];
    const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map(withoutPort).filter(Boolean);
    // proxy-addr's own walk (its `proxyaddr(req, trust)` reads the raw header, ports included): from
    // the TCP peer leftwards through the header, the first address not trusted is the client.
    // An entry that is not an address ends the walk: the nearest hop that is one is the client.
    // Before, it was the client itself, so a peer in the trusted range chose up to 16 KB of text for
    // the logs and audit events, and each new text was a fresh failure budget and a fresh key of
    // the failure counts, whose bound was sized for addresses.
    const hops = [peer, ...forwarded.reverse()];
    for (let i = 0; i < hops.length - 1; i++) if (!trust(hops[i]!, i) || isIP(hops[i + 1]!) === 0) return hops[i];
    return hops[hops.length - 1];
  };
}

/**
 * The key a client's failures count under. `::ffff:127.0.0.1` and `127.0.0.1` are one client, and
 * an IPv6 client is its /64: an end site is assigned at least a /64 (RFC 6177), so counting per full
 * address would let one host take a fresh address for every guess. ipaddr.js parses and normalises
 * (compressed forms, zone ids, IPv4-mapped addresses), so equal prefixes compare equal. Whatever
 * does not parse (a proxy that forwards garbage) counts under itself.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return address;
  }
  if (!(parsed instanceof ipaddr.IPv6)) return parsed.toString();
  return `${new ipaddr.IPv6([...parsed.parts.slice(0, 4), 0, 0, 0, 0]).toString()}/64`;
}
