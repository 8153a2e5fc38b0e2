/**
 * OpenTelemetry tracing: one trace per order, from the POST through the workflow, its activities and
 * the events they publish. The one place the SDK is set up, by both processes (their `start*`): with
 * OTEL_TRACES_EXPORTER unset (or `none`) it is never even loaded, and the rest of the code only meets
 * the OpenTelemetry API, whose calls do nothing without an SDK.
 *
 * Set up: a tracer provider (W3C trace context propagation, async-local context), the exporter the
 * config names (OTLP over HTTP, or Zipkin), HTTP and Express instrumentation for the API, and
 * Temporal's OpenTelemetry plugin (client, activity and workflow interceptors; see `plugin`).
 */
import http from 'node:http';
import https from 'node:https';
import { context, propagation, trace } from '@opentelemetry/api';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import type { TracingConfig } from './config';

export interface Tracing {
  /**
   * Temporal's OpenTelemetry plugin: on a Client, its calls (start, signal, update) carry the active
   * trace in their headers; on a Worker, activities and workflows continue it (workflow spans leave
   * the sandbox through a sink). Its workflow interceptors must be in the workflow bundle (bundle-workflows.ts).
   */
  plugin: OpenTelemetryPlugin;
  /** Flushes the spans still buffered, then (for the last user in the process) shuts the SDK down. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** `orders-api` or `orders-worker` unless OTEL_SERVICE_NAME says otherwise. */
  serviceName: string;
  /** The API: spans for HTTP requests (a server span per request) and Express's routing. */
  instrumentHttp?: boolean;
  /** Instead of the config's exporter (tests: an in-memory one; spans are handed over as they end). */
  exporter?: SpanExporter;
}

interface Sdk {
  plugin: OpenTelemetryPlugin;
  provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> };
  uninstrument?: () => void;
  users: number;
}

/**
 * One SDK per process: the API and the worker started in one process (the tests) share the first
 * one set up, its service name and exporter; the last `shutdown` ends it.
 */
let sdk: Promise<Sdk> | undefined;

/** Sets tracing up for a process; `undefined` (nothing loaded) when the config turns it off and no exporter is given. */
export async function startTracing(
  config: TracingConfig | undefined,
  options: TracingOptions,
): Promise<Tracing | undefined> {
  if (!config && !options.exporter) return undefined;
  // A set-up that failed is not kept: the next start tries again.
  sdk ??= createSdk(config, options).catch((err: unknown) => {
    sdk = undefined;
    throw err;
  });
  const current = await sdk;
  current.users += 1;
  if (options.instrumentHttp && !current.uninstrument) current.uninstrument = await instrumentHttp();
  let released = false;
  return {
    plugin: current.plugin,
    shutdown: async () => {
      if (released) return;
      released = true;
      current.users -= 1;
      if (current.users > 0) return current.provider.forceFlush();
      sdk = undefined;
      current.uninstrument?.();
      await current.provider.shutdown();
      // The next set-up in this process (a test's) registers its own.
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

async function createSdk(config: TracingConfig | undefined, options: TracingOptions): Promise<Sdk> {
  const [{ Resource }, { BatchSpanProcessor, SimpleSpanProcessor }, { NodeTracerProvider }, { OpenTelemetryPlugin }] =
    await Promise.all([
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/sdk-trace-node'),
      import('@temporalio/interceptors-opentelemetry'),
    ]);
  const resource = Resource.default().merge(
    new Resource({ 'service.name': config?.serviceName ?? options.serviceName }),
  );
  const spanProcessor: SpanProcessor = options.exporter
    ? new SimpleSpanProcessor(options.exporter)
    : new BatchSpanProcessor(await exporterFor(config!));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Global: the W3C trace-context (and baggage) propagator and the async-local-storage context manager.
  provider.register();
  return { plugin: new OpenTelemetryPlugin({ resource, spanProcessor }), provider, users: 0 };
}

async function exporterFor({ exporter, endpoint }: TracingConfig): Promise<SpanExporter> {
  if (exporter === 'zipkin') {
    const { ZipkinExporter } = await import('@opentelemetry/exporter-zipkin');
    return new ZipkinExporter({ url: endpoint });
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  return new OTLPTraceExporter({ url: endpoint });
}

/** Paths that are polled, not used: no span for them. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * HTTP: a server span per request, continuing the caller's `traceparent` if it sent one. An
 * instrumentation's require hook patches a module as it is loaded after the hook; `http` is always
 * loaded before (a process reads its config first), and a test runner's own module loader passes no
 * hook at all. So the loaded `http` and `https` are patched here, in place, through the
 * instrumentation's own module definitions (as bundler integrations do): before the API creates its
 * server. Patching is idempotent (a wrapped function is unwrapped first), so a later require through
 * the hook does not patch twice. Express: @opentelemetry/instrumentation-express 0.47 patches
 * express 4 only (`>=4 <5`), so with express 5 it adds nothing yet; the HTTP span is named by the
 * route it matched here instead.
 */
async function instrumentHttp(): Promise<() => void> {
  const [{ registerInstrumentations }, { HttpInstrumentation }, { ExpressInstrumentation }] = await Promise.all([
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-express'),
  ]);
  const httpInstrumentation = new HttpInstrumentation({
    ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0]!),
    // The API calls nothing over HTTP but the exporter, whose own requests are never traced.
    disableOutgoingRequestInstrumentation: true,
    // What the express instrumentation would add: the route the request matched (Express has set
    // req.route and req.baseUrl by the time the response ends), so that spans group by route.
    applyCustomAttributesOnSpan: (span, request) => {
      const { method, route, baseUrl } = request as { method?: string; route?: { path?: unknown }; baseUrl?: string };
      if (route?.path === undefined) return;
      const pattern = `${baseUrl ?? ''}${String(route.path)}`;
      span.setAttribute('http.route', pattern);
      span.updateName(`${method ?? 'HTTP'} ${pattern}`);
    },
  });
  const uninstrument = registerInstrumentations({
    instrumentations: [httpInstrumentation, new ExpressInstrumentation()],
  });
  const loaded: Record<string, object> = { http, https };
  for (const definition of httpInstrumentation.getModuleDefinitions()) {
    const moduleExports = loaded[definition.name];
    if (!moduleExports || !definition.patch) continue;
    definition.moduleExports = moduleExports; // for the unpatch on shutdown
    definition.patch(moduleExports, process.versions.node);
  }
  return uninstrument;
}

/**
 * The workflow interceptors of Temporal's OpenTelemetry plugin, for a bundle made ahead of time
 * (scripts/bundle-workflows.ts): the plugin adds them itself only to a bundle the worker makes.
 * They are deterministic (the package's own sandbox-safe tracer; spans leave through a sink).
 */
export const WORKFLOW_TRACING_INTERCEPTORS = require.resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

/**
 * The prebuilt bundle's twin without the workflow interceptors, written beside it by
 * scripts/bundle-workflows.ts and run by a worker with tracing off. The interceptors cost a third of
 * the workflow thread's CPU and most of a cached workflow's memory (docs/performance.md) even with
 * nothing to export; they add no workflow commands, so a history replays on either bundle.
 */
export function untracedBundlePath(bundle: string): string {
  return bundle.replace(/(\.js)?$/, '.untraced.js');
}
