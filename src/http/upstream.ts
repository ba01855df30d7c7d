import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch, request as undiciRequest, type Dispatcher, type RequestInit, type Response } from 'undici';
import { createProxyDispatcher } from './proxy-tunnel.js';

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
  /**
   * The largest answer body read, in bytes (MAX_UPSTREAM_RESPONSE_BYTES); past it the connection is
   * closed and the request fails with `UND_ERR_RES_EXCEEDED_MAX_SIZE` (`isResponseTooLarge`).
   * Every answer is read whole into memory: unbounded, an endless body from whatever answers at
   * Graph's, Entra's or the broker's address filled the heap (docs/security.md#upstream-answers-are-bounded).
   */
  maxResponseBytes?: number;
}

/** MAX_UPSTREAM_RESPONSE_BYTES's default: 32 MiB, far above any Graph page or `$batch` answer of the gateway. */
export const DEFAULT_MAX_UPSTREAM_RESPONSE_BYTES = 32 * 2 ** 20;

/** Whether an upstream call failed because its answer was larger than `maxResponseBytes`. */
export function isResponseTooLarge(error: unknown): boolean {
  const candidates = [error, (error as { cause?: unknown } | null)?.cause];
  return candidates.some((e) => (e as { code?: unknown } | null)?.code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE');
}

/** One request on the fast path: a string body or none, the whole answer read as text. */
export interface UpstreamRequestInit {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface UpstreamAnswer {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The body read to the end ('' when empty). */
  text: string;
}

export interface UpstreamHttp {
  readonly dispatcher: Dispatcher;
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /**
   * The same dispatcher without the WHATWG fetch machinery (Request/Headers objects, web
   * streams, a body written as an async iterable): a fraction of fetch's CPU per call, which is
   * what the hot paths (Graph calls, token requests) use. Optional so that a wrapper intercepting
   * only `fetch` (tests recording calls) still sees everything: `requestVia` falls back to fetch.
   */
  request?(url: string, init?: UpstreamRequestInit): Promise<UpstreamAnswer>;
  close(): Promise<void>;
}

/** `upstream.request` when it has one, else the same exchange through its `fetch`. */
export function requestVia(upstream: UpstreamHttp, url: string, init: UpstreamRequestInit = {}): Promise<UpstreamAnswer> {
  if (upstream.request) return upstream.request(url, init);
  return requestThroughFetch(upstream, url, init);
}

async function requestThroughFetch(upstream: UpstreamHttp, url: string, init: UpstreamRequestInit): Promise<UpstreamAnswer> {
  const res = await upstream.fetch(url, {
    method: init.method ?? 'GET',
    ...(init.headers ? { headers: init.headers } : {}),
    ...(init.body !== undefined ? { body: init.body } : {}),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  const text = await res.text();
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  return { status: res.status, headers, text };
}

async function requestThroughDispatcher(dispatcher: Dispatcher, url: string, init: UpstreamRequestInit): Promise<UpstreamAnswer> {
  const res = await undiciRequest(url, {
    dispatcher,
    method: init.method ?? 'GET',
    ...(init.headers ? { headers: init.headers } : {}),
    ...(init.body !== undefined ? { body: init.body } : {}),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  const text = await res.body.text();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: res.statusCode, headers, text };
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
    maxResponseSize: options.maxResponseBytes ?? DEFAULT_MAX_UPSTREAM_RESPONSE_BYTES,
  };
  const dispatcher: Dispatcher = options.httpsProxy
    ? createProxyDispatcher({ uri: options.httpsProxy, agent: agentOptions, tls, connectTimeoutMs: agentOptions.connectTimeout })
    : new Agent({ ...agentOptions, connect: { ...tls, timeout: agentOptions.connectTimeout } });
  return {
    dispatcher,
    // Never a redirect: a credential (a broker's encrypted token, a client assertion) goes to the
    // address it was configured for, not where an answer sends it (docs/security.md#upstream-redirects-are-not-followed).
    // `request` follows none either (undici's request has no redirect handling without an interceptor).
    fetch: (url, init = {}) => undiciFetch(url, { ...init, redirect: 'manual', dispatcher }),
    request: (url, init = {}) => requestThroughDispatcher(dispatcher, url, init),
    close: () => dispatcher.close(),
  };
}
