import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { SpanRecord, WorkflowEvent } from "@workflows/core";
import { RunSpans, type GenAiDefaults } from "./runSpans";

/** Where and how spans go (from the standard `OTEL_*` variables, see env.ts). */
export type OtlpConfig = {
  /** Full URL of the traces endpoint, e.g. `http://collector:4318/v1/traces`. */
  url: string;
  protocol: "http/json" | "http/protobuf";
  headers: Record<string, string>;
  serviceName: string;
  /** How long finished spans wait to be sent in a batch (`OTEL_BSP_SCHEDULE_DELAY`); default 5000 ms. */
  scheduleDelayMs?: number;
};

export type TraceExport = {
  observe(event: WorkflowEvent): void;
  observeSpan(span: SpanRecord): void;
  /** Sends every finished span now. */
  flush(): Promise<void>;
  /** Flushes, then stops the exporter. Idempotent. */
  shutdown(): Promise<void>;
};

/** Exports runs as OpenTelemetry traces over OTLP/HTTP with the official exporter and batch processor. */
export function createTraceExport(config: OtlpConfig, opts: { serviceVersion: string; genAi: GenAiDefaults }): TraceExport {
  const exporterConfig = { url: config.url, headers: config.headers };
  const exporter = config.protocol === "http/json" ? new JsonExporter(exporterConfig) : new ProtobufExporter(exporterConfig);
  const processor = new BatchSpanProcessor(exporter, config.scheduleDelayMs === undefined ? {} : { scheduledDelayMillis: config.scheduleDelayMs });
  const resource = defaultResource().merge(resourceFromAttributes({ "service.name": config.serviceName, "service.version": opts.serviceVersion }));
  const spans = new RunSpans({ emit: (span) => processor.onEnd(span), resource, genAi: opts.genAi });
  let stopping: Promise<void> | undefined;
  return {
    observe: (event) => spans.observe(event),
    observeSpan: (span) => spans.observeSpan(span),
    flush: () => processor.forceFlush(),
    shutdown: () => (stopping ??= processor.shutdown()),
  };
}
