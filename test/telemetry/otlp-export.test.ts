import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { capturingLogger } from '../support/log-capture.js';

/**
 * OTLP/HTTP export as configured by the standard OTEL_* variables (docs/operations.md#traces): a
 * collector on loopback receives the spans, with the configured headers and service name; the
 * variables are validated with messages that never echo a header value.
 */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('OTLP/HTTP export to a collector', () => {
  let emulator: TestEmulator;
  let collector: Server;
  let collectorUrl: string;
  const received: Received[] = [];
  const logLines: string[] = [];
  let app: App;

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 20 });
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      CALLER_AUTH: 'api-key',
      API_KEYS: 'otlp:0000000000000000000000000000000000000000000000000000000000000000:Users.Read',
      OTEL_EXPORTER_OTLP_ENDPOINT: `${collectorUrl}/`,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=s3cr3t%20value',
      OTEL_SERVICE_NAME: 'gateway-under-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,service.name=ignored',
    });
    const logger = capturingLogger(logLines, 'info');
    app = await startApp(config, { emulator, logger });
  }, 60_000);
  afterAll(async () => {
    await emulator?.close();
    await new Promise((resolve) => collector?.close(resolve));
  });

  it('sends the spans to <endpoint>/v1/traces with the configured headers when the gateway stops', async () => {
    expect(app.tracing.enabled).toBe(true);
    // Refused (the key is not one of API_KEYS): still an operation span.
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'not-the-key' },
      body: JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }),
    });
    expect(res.status).toBe(401);
    await app.close();

    expect(received.length).toBeGreaterThan(0);
    const exported = received[0]!;
    expect(exported.path).toBe('/v1/traces');
    expect(exported.headers['x-collector-key']).toBe('s3cr3t value');
    expect(exported.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(exported.body) as {
      resourceSpans: Array<{
        resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
        scopeSpans: Array<{ spans: Array<{ name: string; attributes: Array<{ key: string; value: Record<string, unknown> }> }> }>;
      }>;
    };
    const resource = Object.fromEntries(body.resourceSpans[0]!.resource.attributes.map((a) => [a.key, a.value.stringValue]));
    expect(resource['service.name']).toBe('gateway-under-test');
    expect(resource['deployment.environment.name']).toBe('test');
    const spans = body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const operation = spans.find((s) => s.name === 'POST /graphql');
    expect(operation).toBeDefined();
    expect(operation!.attributes).toEqual(expect.arrayContaining([{ key: 'http.response.status_code', value: { intValue: 401 } }]));
    expect(exported.body).not.toContain('not-the-key');

    const started = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'OpenTelemetry traces on');
    expect(started?.tracesUrl).toBe(`${collectorUrl}/v1/traces`);
    expect(logLines.join('\n')).not.toContain('s3cr3t');
  });
});

describe('OTEL_* variables', () => {
  const base = { SANDBOX: 'true' };
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig({ ...base, ...env });
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
  };

  it('are off unless an endpoint is set; OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none win over one', () => {
    expect(loadConfig(base).tracing).toEqual({ exporter: 'none' });
    expect(loadConfig({ ...base, OTEL_SERVICE_NAME: 'x' }).tracing).toEqual({ exporter: 'none' });
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toEqual({ exporter: 'none' });
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing).toEqual({ exporter: 'none' });
  });

  it('take the signal-specific URL as it is and add /v1/traces to the base one', () => {
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracing).toMatchObject({
      exporter: 'otlp',
      tracesUrl: 'http://c:4318/v1/traces',
      serviceName: 'msgraph-user-gateway',
      sampler: 'parentbased_always_on',
      timeoutMs: 10_000,
    });
    expect(
      loadConfig({
        ...base,
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/ingest',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
      }).tracing,
    ).toMatchObject({ tracesUrl: 'https://traces.example/ingest', sampler: 'parentbased_traceidratio', samplerRatio: 0.25, timeoutMs: 3000 });
  });

  it('are refused with the variable named and no header value or credential echoed', () => {
    expect(problemsOf({ OTEL_TRACES_EXPORTER: 'jaeger' })[0]).toMatch(/^OTEL_TRACES_EXPORTER="jaeger" is not valid/);
    expect(problemsOf({ OTEL_TRACES_EXPORTER: 'otlp' })[0]).toMatch(/needs a collector: set OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4318' })[0]).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT is not an http\(s\) URL/);
    expect(problemsOf({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })[0]).toMatch(/^OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported/);
    expect(problemsOf({ OTEL_TRACES_SAMPLER_ARG: '2' })[0]).toMatch(/^OTEL_TRACES_SAMPLER_ARG="2" is not valid/);
    const credentialed = problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:hunter2pass@c:4318' });
    expect(credentialed[0]).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT holds credentials/);
    expect(credentialed.join('\n')).not.toContain('hunter2pass');
    const header = problemsOf({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic%20c2VjcmV0LXZhbHVl,broken' });
    expect(header[0]).toMatch(/^OTEL_EXPORTER_OTLP_HEADERS is not valid.*the value is not shown$/);
    expect(header.join('\n')).not.toContain('c2VjcmV0');
    // A parsed header value is a Secret: it prints redacted.
    const tracing = loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'x-key=topsecret' }).tracing;
    expect(JSON.stringify(tracing)).not.toContain('topsecret');
  });
});
