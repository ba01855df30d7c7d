import { Secret } from '../config-types.js';

/**
 * The OpenTelemetry variables the gateway reads (the standard names of the OpenTelemetry SDK
 * environment specification), parsed by `src/config.ts` through its `get` into `Config.tracing`.
 * Traces are exported only when an OTLP endpoint is configured; otherwise no SDK is started.
 */
export const TRACING_VARIABLES = [
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
] as const;
export type TracingVariable = (typeof TRACING_VARIABLES)[number];

export const DEFAULT_SERVICE_NAME = 'msgraph-user-gateway';
const DEFAULT_EXPORT_TIMEOUT_MS = 10_000;

export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';
const SAMPLERS: readonly SamplerName[] = [
  'parentbased_always_on',
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/** `Config.tracing`: off (the default: no SDK, the API's no-op tracer), or OTLP/HTTP export. */
export type TracingConfig =
  | { exporter: 'none' }
  | {
      exporter: 'otlp';
      /** Where spans are POSTed, as is: e.g. `http://otel-collector:4318/v1/traces`. */
      tracesUrl: string;
      /** Extra request headers for the collector (often an API key, hence Secret). */
      headers: Array<{ name: string; value: Secret }>;
      timeoutMs: number;
      serviceName: string;
      /** From OTEL_RESOURCE_ATTRIBUTES (service.name there yields to OTEL_SERVICE_NAME). */
      resourceAttributes: Record<string, string>;
      sampler: SamplerName;
      /** The ratio of the traceidratio samplers, 0..1. */
      samplerRatio: number;
    };

/**
 * Reads the OTEL_* variables. Problems name the variable and what is accepted; values of header
 * variables are never echoed (they usually carry a collector's API key), nor is an endpoint that
 * holds credentials.
 */
export function readTracingConfig(get: (name: TracingVariable) => string | undefined, problems: string[]): TracingConfig {
  const disabled = get('OTEL_SDK_DISABLED');
  if (disabled !== undefined && !['true', 'false'].includes(disabled.toLowerCase()))
    problems.push(`OTEL_SDK_DISABLED=${JSON.stringify(disabled)} is not valid: true turns OpenTelemetry off; true or false (e.g. OTEL_SDK_DISABLED=true)`);
  const exporter = get('OTEL_TRACES_EXPORTER');
  if (exporter !== undefined && !['otlp', 'none'].includes(exporter))
    problems.push(
      `OTEL_TRACES_EXPORTER=${JSON.stringify(exporter)} is not valid: the gateway exports traces over OTLP/HTTP or not at all; otlp or none (e.g. OTEL_TRACES_EXPORTER=otlp)`,
    );
  for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] as const) {
    const protocol = get(name);
    if (protocol !== undefined && protocol !== 'http/json')
      problems.push(
        `${name}=${JSON.stringify(protocol)} is not supported: the gateway sends OTLP over HTTP with JSON bodies, which every OpenTelemetry Collector OTLP/HTTP receiver (port 4318) accepts; http/json (e.g. ${name}=http/json)`,
      );
  }

  const specific = endpointOf(get, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', problems);
  const base = endpointOf(get, 'OTEL_EXPORTER_OTLP_ENDPOINT', problems);
  // The signal-specific URL is used as it is; the base URL gets the signal's path (OTLP exporter specification).
  const tracesUrl = specific ?? (base !== undefined ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  const headers = [...headersOf(get, 'OTEL_EXPORTER_OTLP_HEADERS', problems), ...headersOf(get, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', problems)];
  const timeoutMs =
    timeoutOf(get, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', problems) ?? timeoutOf(get, 'OTEL_EXPORTER_OTLP_TIMEOUT', problems) ?? DEFAULT_EXPORT_TIMEOUT_MS;
  const resourceAttributes = resourceAttributesOf(get('OTEL_RESOURCE_ATTRIBUTES'), problems);
  const serviceName = get('OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? DEFAULT_SERVICE_NAME;
  const sampler = get('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on';
  if (!(SAMPLERS as readonly string[]).includes(sampler))
    problems.push(
      `OTEL_TRACES_SAMPLER=${JSON.stringify(sampler)} is not valid: which traces are recorded; one of ${SAMPLERS.join(', ')} (e.g. OTEL_TRACES_SAMPLER=parentbased_traceidratio)`,
    );
  const ratioRaw = get('OTEL_TRACES_SAMPLER_ARG');
  const ratio = ratioRaw === undefined ? 1 : Number(ratioRaw);
  if (ratioRaw !== undefined && !(Number.isFinite(ratio) && ratio >= 0 && ratio <= 1))
    problems.push(
      `OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(ratioRaw)} is not valid: the share of traces the traceidratio samplers record; a number from 0 to 1 (e.g. OTEL_TRACES_SAMPLER_ARG=0.1)`,
    );

  if (disabled?.toLowerCase() === 'true' || exporter === 'none') return { exporter: 'none' };
  if (tracesUrl === undefined) {
    if (exporter === 'otlp')
      problems.push(
        'OTEL_TRACES_EXPORTER=otlp needs a collector: set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318) or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
      );
    // Nothing configured: traces stay off (no SDK, no exporter).
    return { exporter: 'none' };
  }
  return {
    exporter: 'otlp',
    tracesUrl,
    headers,
    timeoutMs,
    serviceName,
    resourceAttributes,
    sampler: (SAMPLERS as readonly string[]).includes(sampler) ? (sampler as SamplerName) : 'parentbased_always_on',
    samplerRatio: Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1,
  };
}

function endpointOf(get: (name: TracingVariable) => string | undefined, name: TracingVariable, problems: string[]): string | undefined {
  const value = get(name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${name} is not a URL: the OTLP/HTTP collector (e.g. ${name}=http://otel-collector:4318${name.includes('TRACES') ? '/v1/traces' : ''})`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(
      `${name} is not an http(s) URL: the OTLP/HTTP collector (e.g. ${name}=http://otel-collector:4318${name.includes('TRACES') ? '/v1/traces' : ''})`,
    );
    return undefined;
  }
  if (url.username || url.password) {
    // The exporter would send them in the clear in every log line that names the URL; headers are the place for credentials.
    problems.push(
      `${name} holds credentials: put the collector's credentials in OTEL_EXPORTER_OTLP_HEADERS (e.g. OTEL_EXPORTER_OTLP_HEADERS=authorization=Basic%20...)`,
    );
    return undefined;
  }
  return value;
}

// RFC 9110 token characters: what a header name may hold.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The `key=value,key2=value2` lists with percent-encoded values that both the OTLP exporter's headers and
 * the Resource SDK's attributes use; `value` is undefined when the `=` is missing or the encoding is broken.
 */
function percentEncodedPairs(raw: string): Array<{ part: string; key: string; value: string | undefined }> {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf('=');
      const key = at > 0 ? part.slice(0, at).trim() : '';
      try {
        return { part, key, value: at > 0 ? decodeURIComponent(part.slice(at + 1).trim()) : undefined };
      } catch {
        return { part, key, value: undefined };
      }
    });
}

/** `name=value,name2=value2` with percent-encoded values (the OTLP exporter specification's format). */
function headersOf(get: (name: TracingVariable) => string | undefined, name: TracingVariable, problems: string[]): Array<{ name: string; value: Secret }> {
  const raw = get(name);
  if (raw === undefined) return [];
  const headers: Array<{ name: string; value: Secret }> = [];
  for (const { key, value } of percentEncodedPairs(raw)) {
    if (!HEADER_NAME.test(key) || value === undefined || /[\r\n]/.test(value)) {
      problems.push(`${name} is not valid: comma-separated name=value pairs with percent-encoded values (e.g. ${name}=x-api-key=...); the value is not shown`);
      return [];
    }
    headers.push({ name: key.toLowerCase(), value: new Secret(value) });
  }
  return headers;
}

function timeoutOf(get: (name: TracingVariable) => string | undefined, name: TracingVariable, problems: string[]): number | undefined {
  const raw = get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 600_000) {
    problems.push(
      `${name}=${JSON.stringify(raw)} is not valid: how long one export to the collector may take, in ms; a whole number from 1 to 600000 (e.g. ${name}=10000)`,
    );
    return undefined;
  }
  return n;
}

/** `key=value,key2=value2`, values percent-encoded (the OpenTelemetry Resource SDK specification). */
function resourceAttributesOf(raw: string | undefined, problems: string[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (raw === undefined) return attributes;
  for (const { part, key, value } of percentEncodedPairs(raw)) {
    if (!/^[A-Za-z0-9._-]+$/.test(key) || value === undefined) {
      problems.push(
        `OTEL_RESOURCE_ATTRIBUTES is not valid near ${JSON.stringify(part.slice(0, 40))}: comma-separated key=value pairs with percent-encoded values (e.g. OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=production,k8s.namespace.name=identity)`,
      );
      return {};
    }
    attributes[key] = value;
  }
  return attributes;
}
