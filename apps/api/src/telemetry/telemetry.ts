import type { SpanRecord, WorkflowEvent } from "@workflows/core";
import type { Logger } from "../logger";
import { createMetrics, type Metrics, type MetricsOptions } from "./metrics";
import type { OtlpConfig, TraceExport } from "./otlpExport";
import type { GenAiDefaults } from "./runSpans";

/** A server's metrics and (when configured) trace export, fed by the runner's observers. */
export type Telemetry = {
  metrics: Metrics;
  /** Null when no OTLP endpoint is configured: nothing is sent. */
  traces: TraceExport | null;
  /** For `WorkflowRunnerOptions.observe`: never throws. */
  observe: (event: WorkflowEvent) => void;
  /** For `WorkflowRunnerOptions.observeSpan`: never throws. */
  observeSpan: (span: SpanRecord) => void;
  /** Sends the spans still buffered and stops the exporter (shutdown). Idempotent. */
  shutdown(): Promise<void>;
};

export type TelemetryOptions = MetricsOptions & { otlp: OtlpConfig | null; logger: Logger; serviceVersion: string; genAi: GenAiDefaults };

export async function createTelemetry(opts: TelemetryOptions): Promise<Telemetry> {
  const { logger } = opts;
  const metrics = createMetrics(opts);
  // The OpenTelemetry SDK and exporters are loaded only when traces are exported.
  const traces = opts.otlp ? (await import("./otlpExport")).createTraceExport(opts.otlp, { serviceVersion: opts.serviceVersion, genAi: opts.genAi }) : null;
  if (opts.otlp) logger.info({ url: opts.otlp.url, protocol: opts.otlp.protocol, serviceName: opts.otlp.serviceName }, "exporting traces over OTLP/HTTP");
  // Observers run on the runs' delivery path: a defect here is logged once, never passed to a run.
  let reported = false;
  const safely = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (error) {
      if (!reported) logger.error({ err: error, what }, "telemetry observer failed");
      reported = true;
    }
  };
  return {
    metrics,
    traces,
    observe(event) {
      safely("metrics", () => metrics.observe(event));
      if (traces) safely("traces", () => traces.observe(event));
    },
    observeSpan(span) {
      safely("metrics", () => metrics.observeSpan(span));
      if (traces) safely("traces", () => traces.observeSpan(span));
    },
    async shutdown() {
      try {
        await traces?.shutdown();
      } catch (error) {
        logger.warn({ err: error }, "trace export failed at shutdown");
      }
    },
  };
}
