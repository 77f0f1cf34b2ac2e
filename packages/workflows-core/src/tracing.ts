import { setTraceProcessors, setTracingDisabled, withTrace, type Span, type SpanData, type TracingProcessor } from "@openai/agents-core";
import { spanKindSchema, type SpanKind, type SpanRecord } from "./records";

type SpanSink = (span: SpanRecord) => void;
const knownKinds: ReadonlySet<string> = new Set(spanKindSchema.options);
const maxDataChars = 2_000;

/**
 * Our only trace processor: spans of workflow steps go to the recorder of their run, nothing leaves
 * the process. Steps run inside a trace whose metadata names the run and the step.
 */
class StepSpanProcessor implements TracingProcessor {
  readonly #sinks = new Map<string, SpanSink>();

  attach(workflowRunId: string, sink: SpanSink): () => void {
    this.#sinks.set(workflowRunId, sink);
    return () => this.#sinks.delete(workflowRunId);
  }

  onTraceStart(): Promise<void> {
    return Promise.resolve();
  }
  onTraceEnd(): Promise<void> {
    return Promise.resolve();
  }
  onSpanStart(): Promise<void> {
    return Promise.resolve();
  }
  onSpanEnd(span: Span<SpanData>): Promise<void> {
    const meta: unknown = span.traceMetadata;
    if (!isStepMeta(meta)) return Promise.resolve();
    this.#sinks.get(meta.workflowRunId)?.(toSpanRecord(span, meta));
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

let processor: StepSpanProcessor | undefined;

/** Replaces the SDK's exporter (which would send traces to OpenAI) with ours. Idempotent. */
export function installTracing(): StepSpanProcessor {
  if (!processor) {
    processor = new StepSpanProcessor();
    setTraceProcessors([processor]);
    setTracingDisabled(false);
  }
  return processor;
}

export type StepTraceMeta = { workflowRunId: string; stepIndex: string };

/** Runs one attempt of a step inside a trace of its own, whose metadata sends its spans to the run's recorder. */
export function withStepTrace<T>(at: { workflowKey: string; workflowRunId: string; stepName: string; stepIndex: number }, attempt: () => Promise<T>): Promise<T> {
  const metadata: StepTraceMeta = { workflowRunId: at.workflowRunId, stepIndex: String(at.stepIndex) };
  return withTrace(`${at.workflowKey}/${at.stepName}`, attempt, { groupId: at.workflowRunId, metadata });
}

function isStepMeta(meta: unknown): meta is StepTraceMeta {
  return typeof meta === "object" && meta !== null && typeof (meta as Record<string, unknown>).workflowRunId === "string";
}

function toSpanRecord(span: Span<SpanData>, meta: StepTraceMeta): SpanRecord {
  const data: Record<string, unknown> = span.spanData;
  const type = span.spanData.type;
  const kind: SpanKind = knownKinds.has(type) ? (type as SpanKind) : "other";
  const name = typeof data.name === "string" ? data.name : type;
  const stepIndex = Number(meta.stepIndex);
  return {
    workflowRunId: meta.workflowRunId,
    stepIndex: Number.isInteger(stepIndex) ? stepIndex : null,
    traceId: span.traceId,
    spanId: span.spanId,
    parentId: span.parentId,
    kind,
    name,
    startedAt: span.startedAt,
    endedAt: span.endedAt,
    error: span.error?.message ?? null,
    data: smallData(data),
  };
}

/** Keeps span data small: scalars as they are, long strings cut, big structures replaced by a size note. */
export function smallData(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let budget = maxDataChars;
  for (const key in data) {
    const value = data[key];
    if (value === undefined || key === "type") continue;
    if (typeof value === "string") {
      out[key] = value.length <= budget ? value : `${value.slice(0, Math.max(0, budget))}… [${value.length} chars]`;
      budget -= Math.min(value.length, budget);
    } else if (typeof value !== "object" || value === null) {
      out[key] = value;
    } else {
      const size = sizeWithin(value, budget);
      out[key] = size <= budget ? value : "[too large, omitted]";
      budget -= Math.min(size, budget);
    }
  }
  return out;
}

/** Roughly the JSON length of a value, counting no further than `limit` (so big values cost little). */
function sizeWithin(value: unknown, limit: number): number {
  if (typeof value === "string") return value.length + 2;
  if (typeof value !== "object" || value === null) return 8;
  let size = 2;
  for (const key in value) {
    size += key.length + 4 + sizeWithin((value as Record<string, unknown>)[key], limit - size);
    if (size > limit) return size;
  }
  return size;
}
