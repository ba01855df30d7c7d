import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, ProxyAgent, fetch as undiciFetch, type Dispatcher, type RequestInit, type Response } from 'undici';

/**
 * The one outbound HTTP layer for Graph, login (msal) and broker calls: keep-alive connection
 * pooling, connect/headers/body timeouts, extra CA trust (the emulator's CA, corporate TLS
 * inspection) and an HTTPS proxy, configured once. undici is used because Node's fetch cannot be
 * given a CA or a proxy per call.
 */
export interface UpstreamHttpOptions {
  /** PEM CA bundles trusted in addition to the system roots. */
  extraCaPem: string[];
  httpsProxy?: string;
  connectTimeoutMs?: number;
  /** Time to response headers and between body chunks. */
  requestTimeoutMs?: number;
  connections?: number;
}

export interface UpstreamHttp {
  readonly dispatcher: Dispatcher;
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export function createUpstreamHttp(options: UpstreamHttpOptions): UpstreamHttp {
  // Passing `ca` replaces Node's default trust store, so the system roots are added back
  // explicitly; config puts the NODE_EXTRA_CA_CERTS bundle into extraCaPem for the same reason.
  // One secure context built up front: passing `ca` per connection makes Node re-parse the whole
  // root store for every new TLS connection (a quarter of the CPU under load in the benchmark).
  const ca = options.extraCaPem.length > 0 ? [...rootCertificates, ...options.extraCaPem] : undefined;
  const tls = ca ? { secureContext: createSecureContext({ ca }) } : {};
  const agentOptions = {
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    connections: options.connections ?? 64,
    headersTimeout: options.requestTimeoutMs ?? 30_000,
    bodyTimeout: options.requestTimeoutMs ?? 30_000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
  };
  const dispatcher: Dispatcher = options.httpsProxy
    ? new ProxyAgent({ uri: options.httpsProxy, ...agentOptions, requestTls: tls, proxyTls: tls })
    : new Agent({ ...agentOptions, connect: { ...tls, timeout: agentOptions.connectTimeout } });
  return {
    dispatcher,
    fetch: (url, init = {}) => undiciFetch(url, { ...init, dispatcher }),
    close: () => dispatcher.close(),
  };
}

