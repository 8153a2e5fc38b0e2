import { z } from 'zod';

/** An http(s) URL: where spans are sent. */
function httpUrl(name: string) {
  return z.url({ protocol: /^https?$/, error: `${name} must be an http:// or https:// URL` });
}

// OpenTelemetry tracing (the standard OTEL_* names): unset or `none`, no SDK is loaded at all.
export const tracingVariables = z.object({
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'zipkin', 'none'], { error: 'OTEL_TRACES_EXPORTER must be otlp, zipkin or none (unset: off)' })
    .optional(),
  OTEL_SERVICE_NAME: z.string().trim().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT').optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT').optional(),
  OTEL_EXPORTER_ZIPKIN_ENDPOINT: httpUrl('OTEL_EXPORTER_ZIPKIN_ENDPOINT').optional(),
});

export interface TracingConfig {
  exporter: 'otlp' | 'zipkin';
  /** The full URL spans are sent to (OTLP over HTTP, JSON: .../v1/traces; Zipkin: .../api/v2/spans). */
  endpoint: string;
  /** OTEL_SERVICE_NAME; unset, each process names itself (`orders-api`, `orders-worker`). */
  serviceName?: string;
}

const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';
const DEFAULT_ZIPKIN_ENDPOINT = 'http://localhost:9411/api/v2/spans';

/** Where spans go; undefined when tracing is off (OTEL_TRACES_EXPORTER unset or `none`). */
export function tracingConfig(e: z.infer<typeof tracingVariables>): TracingConfig | undefined {
  if (!e.OTEL_TRACES_EXPORTER || e.OTEL_TRACES_EXPORTER === 'none') return undefined;
  return {
    exporter: e.OTEL_TRACES_EXPORTER,
    // The specification's rule: the per-signal variable is the URL as it is; the general one gets /v1/traces.
    endpoint:
      e.OTEL_TRACES_EXPORTER === 'zipkin'
        ? (e.OTEL_EXPORTER_ZIPKIN_ENDPOINT ?? DEFAULT_ZIPKIN_ENDPOINT)
        : (e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
          `${(e.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_OTLP_ENDPOINT).replace(/\/$/, '')}/v1/traces`),
    ...(e.OTEL_SERVICE_NAME ? { serviceName: e.OTEL_SERVICE_NAME } : {}),
  };
}
