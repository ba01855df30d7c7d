import { Pool, ProxyAgent, type Agent, type Dispatcher } from 'undici';

/**
 * The dispatcher for HTTPS_PROXY: undici's ProxyAgent, with the CONNECT exchange with the proxy
 * bounded and every failure of it made final (docs/reliability.md#behind-an-https-proxy).
 *
 * undici's own ProxyAgent (7.x) has two ways to hang a call for good, both seen against a loopback
 * proxy: a proxy that closes the connection instead of answering CONNECT fails the tunnel with
 * `UND_ERR_SOCKET`, which undici's client takes for a recoverable socket error, so it opens
 * another tunnel at once, thousands a second, and the call never settles (nodejs/undici#3897); and
 * a proxy that accepts the connection and never answers CONNECT is waited for 300 s (the proxy
 * client's own headers timeout). The call's abort signal cannot cut either: undici acts on it only
 * once the request has a connection. So the tunnel's answer is waited for at most the connect
 * timeout, and any failure of the tunnel, a refusal (407, 502, ...) among them, fails the call
 * with a ProxyTunnelError: the request was never sent (a write is not in doubt; retrying is safe).
 */

/** The `code` of every ProxyTunnelError: the request did not leave the gateway. */
export const PROXY_TUNNEL_FAILED = 'PROXY_TUNNEL_FAILED';

export class ProxyTunnelError extends Error {
  readonly code = PROXY_TUNNEL_FAILED;
  /** The proxy's status answer to CONNECT, when it answered one other than 200. */
  readonly proxyStatus: number | undefined;

  constructor(message: string, proxyStatus?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProxyTunnelError';
    this.proxyStatus = proxyStatus;
  }
}

type TunnelOptions = Parameters<Pool['connect']>[0];

/** The connection pool to the proxy itself: its CONNECT requests end in a tunnel or a ProxyTunnelError. */
class TunnelPool extends Pool {
  override connect(options: TunnelOptions): Promise<Dispatcher.ConnectData>;
  override connect(options: TunnelOptions, callback: (err: Error | null, data: Dispatcher.ConnectData) => void): void;
  override connect(options: TunnelOptions, callback?: (err: Error | null, data: Dispatcher.ConnectData) => void): Promise<Dispatcher.ConnectData> | void {
    // ProxyAgent only uses the promise form; the callback form is left as undici has it.
    if (callback) return super.connect(options, callback);
    return this.tunnel(options);
  }

  private async tunnel(options: TunnelOptions): Promise<Dispatcher.ConnectData> {
    let data: Dispatcher.ConnectData;
    try {
      data = await super.connect(options);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      throw new ProxyTunnelError(`the proxy did not open a tunnel (${typeof code === 'string' ? code : 'connection failed'})`, undefined, { cause: error });
    }
    if (data.statusCode !== 200) {
      data.socket.on('error', () => undefined).destroy();
      // The status only: the proxy's reason phrase and body are another party's text.
      throw new ProxyTunnelError(`the proxy refused the tunnel with HTTP ${data.statusCode}`, data.statusCode);
    }
    return data;
  }
}

export interface ProxyDispatcherOptions {
  /** The HTTPS_PROXY URL; credentials in it become the Proxy-Authorization header and go nowhere else. */
  uri: string;
  /** Options of the connections through the tunnel (timeouts, bounds, pool size). */
  agent: Agent.Options;
  /** TLS to the upstream host through the tunnel and to an https proxy. */
  tls: Record<string, unknown>;
  /** The bound on reaching the proxy and on its answer to CONNECT. */
  connectTimeoutMs: number;
}

export function createProxyDispatcher(options: ProxyDispatcherOptions): Dispatcher {
  return new ProxyAgent({
    ...options.agent,
    uri: options.uri,
    requestTls: options.tls,
    proxyTls: { ...options.tls, timeout: options.connectTimeoutMs },
    // The pool's origin without user and password: ProxyAgent already made them the
    // Proxy-Authorization header, and an origin ends up in undici's errors and diagnostics.
    clientFactory: (origin, opts) => new TunnelPool(new URL(origin.origin), { ...(opts as Pool.Options), headersTimeout: options.connectTimeoutMs }),
  });
}
