import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';

/**
 * HTTPS_PROXY applies to Graph and login calls alike: a real CONNECT proxy on loopback sees the
 * gateway's tunnels to the (emulated) login and Graph host, and answers still arrive.
 */
describe('HTTPS_PROXY', () => {
  let emulator: TestEmulator;
  let proxy: Server;
  let app: App;
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 100 });
    proxy = createHttpServer((_req, res) => {
      res.writeHead(405).end();
    });
    proxy.on('connect', (req, clientSocket: Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(clientSocket);
        clientSocket.pipe(upstream);
      });
      for (const s of [upstream, clientSocket]) {
        sockets.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => sockets.delete(s));
      }
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyPort = (proxy.address() as { port: number }).port;
    const config = loadSandboxConfig(emulator, {
      HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
    });
    const logger = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
    app = await startApp(config, { emulator, logger });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    await emulator.close();
  });

  it('tunnels token and Graph requests through the proxy', async () => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 2) { nodes { displayName } } }' }),
    });
    const body = (await res.json()) as { data: { users: { nodes: unknown[] } } };
    expect(body.data.users.nodes).toHaveLength(2);
    const target = new URL(emulator.origin).host;
    expect(tunnels.length).toBeGreaterThan(0);
    expect(tunnels.every((t) => t === target)).toBe(true);
    const stats = await emulator.stats();
    expect(stats.tokenRequests).toBeGreaterThan(0);
    expect(stats.graphRequests).toBeGreaterThan(0);
  });

  it('sends nothing around the proxy: with a proxy that refuses tunnels, no token or Graph request reaches the host', async () => {
    const refusing = createHttpServer((_req, res) => res.writeHead(405).end());
    refusing.on('connect', (_req, socket: Socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const port = (refusing.address() as { port: number }).port;
    await emulator.resetStats();
    const config = loadSandboxConfig(emulator, {
      HTTPS_PROXY: `http://127.0.0.1:${port}`,
    });
    const logger = createLogger({ level: 'silent' });
    let blocked: App | undefined;
    try {
      blocked = await startApp(config, { emulator, logger });
      const res = await fetch(`${blocked.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ users(first: 2) { nodes { displayName } } }' }),
      });
      const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      expect(body.errors?.[0]?.extensions?.code).toMatch(/UPSTREAM_UNAVAILABLE|UPSTREAM_ERROR|UNAUTHENTICATED/);
    } catch (error) {
      // Refusing to start without a reachable authority is an acceptable answer too.
      expect(error).toBeInstanceOf(Error);
    } finally {
      await blocked?.close();
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
    const stats = await emulator.stats();
    expect(stats.tokenRequests).toBe(0);
    expect(stats.graphRequests).toBe(0);
  });
});
