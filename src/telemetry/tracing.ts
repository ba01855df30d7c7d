import { context, propagation, trace } from '@opentelemetry/api';
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { scrubbedUpstreamText } from '../http/upstream-text.js';
import type { Logger } from '../logger.js';
import { DEFAULT_SERVICE_NAME, type TracingConfig } from './config.js';
import { setActiveTracer } from './state.js';

/**
 * The OpenTelemetry SDK, started only when traces are configured (docs/operations.md#traces):
 * OTLP/HTTP export of batched spans, the configured sampler, W3C trace context as the only
 * propagator (no baggage: a caller's baggage would otherwise be forwarded upstream). Off (the
 * default), none of the SDK is even loaded and the gateway's hooks reduce to one check each.
 */
export interface Tracing {
  readonly enabled: boolean;
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Exports what is left (bounded by `SHUTDOWN_FLUSH_MS`) and unregisters the SDK. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  logger: Logger;
  /** Where spans go instead of the OTLP exporter (tests: InMemorySpanExporter). Turns tracing on. */
  spanExporter?: SpanExporter;
}

/**
 * Longest the shutdown waits for the last spans to reach the collector. It runs after the drain,
 * inside the margin the hard exit leaves (src/main.ts), so an unreachable collector cannot keep a
 * stopping pod alive.
 */
export const SHUTDOWN_FLUSH_MS = 2_000;

const TRACER_NAME = 'msgraph-user-gateway';
/** Longer strings in attributes are cut (ours are route templates and ids; this bounds mistakes). */
const ATTRIBUTE_VALUE_LENGTH_LIMIT = 1_024;
/** Failed exports are logged at most this often (a collector that is down fails every few seconds). */
const EXPORT_ERROR_LOG_INTERVAL_MS = 60_000;

const OFF: Tracing = { enabled: false, flush: async () => {}, shutdown: async () => {} };

export async function startTracing(settings: TracingConfig | undefined, options: TracingOptions): Promise<Tracing> {
  if (!options.spanExporter && (settings === undefined || settings.exporter === 'none')) return OFF;
  const otlp = settings?.exporter === 'otlp' ? settings : undefined;

  const [{ NodeTracerProvider, BatchSpanProcessor, AlwaysOnSampler, AlwaysOffSampler, ParentBasedSampler, TraceIdRatioBasedSampler }, resources, core] =
    await Promise.all([import('@opentelemetry/sdk-trace-node'), import('@opentelemetry/resources'), import('@opentelemetry/core')]);

  let exporter: SpanExporter;
  if (options.spanExporter) exporter = options.spanExporter;
  else {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    exporter = new OTLPTraceExporter({
      url: otlp!.tracesUrl,
      headers: Object.fromEntries(otlp!.headers.map((h) => [h.name, h.value.reveal()])),
      timeoutMillis: otlp!.timeoutMs,
    });
  }

  const ratio = otlp?.samplerRatio ?? 1;
  const samplerOf = (name: NonNullable<typeof otlp>['sampler']): Sampler => {
    switch (name) {
      case 'always_on':
        return new AlwaysOnSampler();
      case 'always_off':
        return new AlwaysOffSampler();
      case 'traceidratio':
        return new TraceIdRatioBasedSampler(ratio);
      case 'parentbased_always_on':
        return new ParentBasedSampler({ root: new AlwaysOnSampler() });
      case 'parentbased_always_off':
        return new ParentBasedSampler({ root: new AlwaysOffSampler() });
      case 'parentbased_traceidratio':
        return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
      default: {
        const unreachable: never = name;
        return unreachable;
      }
    }
  };

  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ ...otlp?.resourceAttributes, 'service.name': otlp?.serviceName ?? DEFAULT_SERVICE_NAME }));
  // Every setting explicit, so the SDK's own environment fallbacks have nothing to decide.
  const processor = new BatchSpanProcessor(exporter, {
    maxQueueSize: 2_048,
    maxExportBatchSize: 512,
    scheduledDelayMillis: 5_000,
    exportTimeoutMillis: otlp?.timeoutMs ?? 10_000,
  });
  const provider = new NodeTracerProvider({
    resource,
    sampler: samplerOf(otlp?.sampler ?? 'parentbased_always_on'),
    spanProcessors: [processor],
    forceFlushTimeoutMillis: SHUTDOWN_FLUSH_MS,
    generalLimits: { attributeValueLengthLimit: ATTRIBUTE_VALUE_LENGTH_LIMIT, attributeCountLimit: 128 },
    spanLimits: {
      attributeValueLengthLimit: ATTRIBUTE_VALUE_LENGTH_LIMIT,
      attributeCountLimit: 128,
      eventCountLimit: 128,
      linkCountLimit: 16,
      attributePerEventCountLimit: 32,
      attributePerLinkCountLimit: 32,
    },
  });
  provider.register({ propagator: new core.W3CTraceContextPropagator() });

  // The values the exporter sends, removed from any collector text the gateway logs; and each word
  // of a value on its own: a collector that echoes the credential of `Bearer <key>` echoes the key
  // alone, which a 32-character key is too short to be caught as token-shaped.
  const headerValues = otlp ? otlp.headers.flatMap((h) => secretWordsOf(h.value.reveal())) : [];
  // Export failures reach the SDK's global error handler; one warning a minute says the collector is not taking spans.
  let lastLogged = 0;
  core.setGlobalErrorHandler((error) => {
    const now = Date.now();
    if (now - lastLogged < EXPORT_ERROR_LOG_INTERVAL_MS) return;
    lastLogged = now;
    options.logger.warn(
      { err: exportErrorSummary(error, headerValues) },
      'OpenTelemetry: spans could not be exported (further failures within a minute are not logged)',
    );
  });
  setActiveTracer(provider.getTracer(TRACER_NAME));
  options.logger.info(
    { tracesUrl: otlp ? redactedUrl(otlp.tracesUrl) : 'injected exporter', sampler: otlp?.sampler ?? 'parentbased_always_on' },
    'OpenTelemetry traces on',
  );

  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown: () =>
      (stopped ??= (async () => {
        setActiveTracer(undefined);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          provider
            .shutdown()
            .catch((error: unknown) => options.logger.warn({ err: exportErrorSummary(error, headerValues) }, 'OpenTelemetry: shutdown failed')),
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              options.logger.warn({ limitMs: SHUTDOWN_FLUSH_MS }, 'OpenTelemetry: the last spans could not be exported in time');
              resolve();
            }, SHUTDOWN_FLUSH_MS);
            timer.unref();
          }),
        ]);
        clearTimeout(timer);
        trace.disable();
        context.disable();
        propagation.disable();
        core.setGlobalErrorHandler(core.loggingErrorHandler());
      })()),
  };
}

/**
 * An export error for a log line: its name, code and message, no stack. The message is the
 * collector's (the OTLP exporter makes the HTTP reason phrase its message), so it is another
 * service's text: printable, without the OTLP header values (a collector could echo the key it was
 * sent), bounded (src/identity/token-errors.ts).
 */
function exportErrorSummary(error: unknown, headerValues: readonly string[]): Record<string, unknown> {
  const e = error as { name?: unknown; code?: unknown; message?: unknown } | undefined;
  return {
    name: typeof e?.name === 'string' ? e.name : undefined,
    code: typeof e?.code === 'string' || typeof e?.code === 'number' ? e.code : undefined,
    message: typeof e?.message === 'string' ? scrubbedUpstreamText(e.message, headerValues, 200) : undefined,
  };
}

/** A header value, and its words (split at white space) long enough to be a credential rather than a scheme name. */
function secretWordsOf(value: string): string[] {
  const words = value.split(/\s+/).filter((word) => word.length >= MIN_SECRET_WORD_LENGTH);
  return [value, ...words.filter((word) => word !== value)];
}
/** `Bearer`, `Basic` and `Digest` are shorter; a credential is longer. */
const MIN_SECRET_WORD_LENGTH = 8;

/** The collector URL for a log line: origin and path, no query (a token may hide there). */
function redactedUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}
