import type { Tracer } from '@opentelemetry/api';
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TraceExporterName, TracingConfig } from './config.js';

/** The instrumentation scope of the gateway's spans. */
const TRACER_NAME = 'agent-progress-gateway';

type TraceSdk = typeof import('@opentelemetry/sdk-trace-base');

export interface Tracing {
  tracer: Tracer;
  /** Exports every span ended so far. */
  flush(): Promise<void>;
  /** Exports what is left, then stops. */
  shutdown(): Promise<void>;
}

/**
 * An OpenTelemetry tracer provider for one gateway, as `config` (read from the `OTEL_*` variables) describes it.
 * The SDK is imported here only, so a gateway without tracing never loads it. The provider is not registered as the
 * global one: the gateway's operation spans are all it traces, and gateways sharing a process (tests) stay apart.
 * `exporter` stands in for the exporters the config names (tests pass an in-memory one); the rest is unchanged.
 * The SDK itself still reads its tuning variables (`OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_TIMEOUT`, span limits).
 */
export async function startTracing(config: TracingConfig, exporter?: SpanExporter): Promise<Tracing> {
  const [sdk, { resourceFromAttributes }] = await Promise.all([import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/resources')]);
  const exporters = exporter ? [exporter] : await Promise.all(config.exporters.map((name) => createExporter(sdk, name, config)));
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName }),
    sampler: createSampler(sdk, config),
    spanProcessors: exporters.map((each) => new sdk.BatchSpanProcessor(each)),
  });
  return {
    tracer: provider.getTracer(TRACER_NAME),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

async function createExporter(sdk: TraceSdk, name: TraceExporterName, config: TracingConfig): Promise<SpanExporter> {
  if (name === 'console') return new sdk.ConsoleSpanExporter();
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url: config.otlpEndpoint, headers: { ...config.otlpHeaders } });
}

function createSampler(sdk: TraceSdk, { sampler, samplerRatio }: TracingConfig): Sampler {
  const root = sampler.endsWith('always_off')
    ? new sdk.AlwaysOffSampler()
    : sampler.endsWith('traceidratio')
      ? new sdk.TraceIdRatioBasedSampler(samplerRatio)
      : new sdk.AlwaysOnSampler();
  return sampler.startsWith('parentbased_') ? new sdk.ParentBasedSampler({ root }) : root;
}
