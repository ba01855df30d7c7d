import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/**
 * A real HTTP CONNECT proxy on loopback for HTTPS_PROXY tests. `mode` decides what it does with
 * the next CONNECT: open the tunnel, refuse it (407, 502), drop the connection without answering,
 * or never answer. It records every CONNECT target and the Proxy-Authorization it carried.
 */
export type ProxyMode = 'tunnel' | 'refuse-407' | 'refuse-502' | 'drop' | 'silent';

export interface ConnectProxy {
  /** `http://127.0.0.1:<port>` (add credentials yourself: `http://user:pass@127.0.0.1:<port>`). */
  origin: string;
  port: number;
  mode: ProxyMode;
  /** `host:port` of every CONNECT received, in order. */
  readonly tunnels: string[];
  /** The Proxy-Authorization header of every CONNECT received ('' when none). */
  readonly authorizations: string[];
  /** Closes every open tunnel, so that the next call needs a new CONNECT (and meets `mode`). */
  cutTunnels(): void;
  close(): Promise<void>;
}

export async function startConnectProxy(): Promise<ConnectProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((_req, res) => res.writeHead(405).end());
  const proxy: ConnectProxy = {
    origin: '',
    port: 0,
    mode: 'tunnel',
    tunnels: [],
    authorizations: [],
    cutTunnels() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  server.on('connect', (req, client: Socket, head: Buffer) => {
    track(client);
    proxy.tunnels.push(req.url ?? '');
    proxy.authorizations.push(req.headers['proxy-authorization'] ?? '');
    switch (proxy.mode) {
      case 'refuse-407':
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n');
        return;
      case 'refuse-502':
        client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
        return;
      case 'drop':
        client.destroy();
        return;
      case 'silent':
        return;
      case 'tunnel': {
        const [host, port] = (req.url ?? '').split(':');
        const upstream = connect(Number(port), host, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        track(upstream);
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.origin = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}
