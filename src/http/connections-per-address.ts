import type { Server } from 'node:net';
import proxyaddr from 'proxy-addr';
import { addressKey } from './client-address.js';

/**
 * At most `max` connections open at once from one TCP peer (an IPv6 peer by its /64, as the
 * failure counts go: `addressKey`); past it a new connection is closed on arrival, as past
 * MAX_CONNECTIONS. Without it one host, holding no credential, could open MAX_CONNECTIONS
 * connections that each trickle their headers, and every other client's connection was closed
 * on arrival (docs/security.md#connections-per-address).
 *
 * The peers of TRUSTED_PROXIES are not counted: every client behind them arrives through them,
 * and only MAX_CONNECTIONS bounds them. It is the TCP peer, never X-Forwarded-For: a connection
 * is judged before any header of it has arrived.
 */
export function limitConnectionsPerAddress(server: Server, options: { max: number; trustedProxies: readonly string[]; onRefused?: () => void }): void {
  const trusted = options.trustedProxies.length > 0 ? proxyaddr.compile([...options.trustedProxies]) : undefined;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const peer = socket.remoteAddress;
    if (peer === undefined) return;
    if (trusted?.(peer, 0)) return;
    const key = addressKey(peer);
    const count = open.get(key) ?? 0;
    if (count >= options.max) {
      options.onRefused?.();
      socket.destroy();
      return;
    }
    open.set(key, count + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
  });
}
