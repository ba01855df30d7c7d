import type { Config } from '../../src/config-types.js';
import { ErrorCode } from '../../src/errors.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createUpstreamHttp } from '../../src/http/upstream.js';
import { createCallerAuthenticator, createGraphIdentity } from '../../src/identity/index.js';
import type { GraphIdentity } from '../../src/identity/types.js';
import { createMetrics, type GatewayMetrics } from '../../src/metrics.js';
import { applySandbox } from '../../src/sandbox.js';
import type { TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { recordingUpstream } from '../support/recording-upstream.js';
import { capturingLogger } from '../support/log-capture.js';

/**
 * A real gateway over a real emulator whose upstream HTTP layer (an injected dependency) also
 * records every outbound request, so tests can prove what did, and did not, reach Graph.
 */
export interface RecordedCall {
  method: string;
  url: string;
  body: string | undefined;
}

export interface RecordingGateway {
  url: string;
  config: Config;
  gateway: Gateway;
  identity: GraphIdentity;
  metrics: GatewayMetrics;
  calls: RecordedCall[];
  logText(): string;
  close(): Promise<void>;
}

export const PUBLIC_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

export async function startRecordingGateway(
  emulator: TestEmulator,
  env: Record<string, string> = {},
  configure: (config: Config) => Config = (c) => c,
): Promise<RecordingGateway> {
  const base = loadSandboxConfig(emulator, {
    LOG_LEVEL: 'trace',
    INTROSPECTION: 'true',
    ...env,
  });
  const config = configure(applySandbox(base, emulator));
  const lines: string[] = [];
  const logger = capturingLogger(lines, config.logLevel);
  const metrics = createMetrics({ defaultMetrics: false });
  const real = createUpstreamHttp({ extraCaPem: config.extraCaPem, requestTimeoutMs: config.limits.upstreamTimeoutMs });
  const calls: RecordedCall[] = [];
  const upstream = recordingUpstream((url, init) =>
    calls.push({ method: init.method ?? 'GET', url, body: typeof init.body === 'string' ? init.body : undefined }),
  )(real);
  const identity = await createGraphIdentity(config, { logger, metrics, upstream });
  const callerAuthenticator = createCallerAuthenticator(config, { upstream, logger, tenantId: emulator.tenantId });
  const gateway = await createGateway({ config, logger, metrics, upstream, identity, callerAuthenticator });
  const url = await gateway.listen();
  return {
    url,
    config,
    gateway,
    identity,
    metrics,
    calls,
    logText: () => lines.join(''),
    async close() {
      await gateway.close();
      await identity.close?.();
      await upstream.close();
    },
  };
}

export interface HttpAnswer {
  status: number;
  /** The response headers, where the answer came from `post`. */
  headers?: Headers;
  text: string;
  json: { data?: unknown; errors?: Array<{ message?: string; extensions?: { code?: string; [k: string]: unknown } }> } | undefined;
}

export async function post(
  url: string,
  body: string | Buffer | Uint8Array,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<HttpAnswer> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body });
  const text = await res.text();
  let json: HttpAnswer['json'];
  try {
    json = JSON.parse(text) as HttpAnswer['json'];
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A clear answer: a 4xx with a public code, or a GraphQL result whose every error has a public code. */
export function clearAnswerProblems(answer: HttpAnswer, allow503 = false): string[] {
  const problems: string[] = [];
  if (answer.status >= 500 && !(allow503 && answer.status === 503)) problems.push(`status ${answer.status}`);
  if (!answer.json || typeof answer.json !== 'object') return [...problems, `non-JSON body: ${answer.text.slice(0, 120)}`];
  const errors = answer.json.errors;
  if (errors === undefined && !('data' in answer.json)) problems.push('neither data nor errors');
  for (const error of errors ?? []) {
    const code = error.extensions?.code;
    if (typeof code !== 'string' || !PUBLIC_CODES.has(code)) problems.push(`error code ${String(code)} outside the closed set`);
    if (code === ErrorCode.INTERNAL_SERVER_ERROR) problems.push(`INTERNAL_SERVER_ERROR: ${error.message}`);
  }
  if (answer.status >= 400 && (errors ?? []).length === 0) problems.push(`status ${answer.status} without errors`);
  return problems;
}
