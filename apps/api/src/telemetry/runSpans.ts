import { createHash, randomBytes } from "node:crypto";
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type SpanContext } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { EventOf, SpanRecord, Usage, WorkflowEvent } from "@workflows/core";

/** What the model spans say about the model when the SDK's span data does not (`gen_ai.system`, `gen_ai.request.model`). */
export type GenAiDefaults = { system: string; model: string | undefined };

type OpenSpan = { spanId: string; parentSpanId: string | null; name: string; startMs: number; attributes: Attributes };
type RunTrace = {
  traceId: string;
  run: OpenSpan;
  /** The open attempt span of each step. */
  openSteps: Map<number, OpenSpan>;
  /** The span id of each step's latest attempt: the parent of that step's SDK spans (which may end after it). */
  latestAttempt: Map<number, string>;
};

const scope = { name: "@workflows/api" };
const maxOpenRuns = 10_000;

/**
 * Turns a run's stored events and SDK span records into OpenTelemetry spans: one span per run (or per
 * resumed part of a run), a child per step attempt, and below it the SDK's spans (task, agent, turn,
 * response/generation, function, handoff) with their own parent links, so the run is one tree. It is
 * one more observer of the records the database gets; it instruments nothing itself. Runs without a
 * trace context (recorded before traces existed) are skipped.
 */
export class RunSpans {
  readonly #runs = new Map<string, RunTrace>();
  readonly #emit: (span: ReadableSpan) => void;
  readonly #resource: Resource;
  readonly #genAi: GenAiDefaults;

  constructor(opts: { emit: (span: ReadableSpan) => void; resource: Resource; genAi: GenAiDefaults }) {
    this.#emit = opts.emit;
    this.#resource = opts.resource;
    this.#genAi = opts.genAi;
  }

  /** Runs whose run span is open (for tests and leak checks). */
  get openRuns(): number {
    return this.#runs.size;
  }

  observe(event: WorkflowEvent): void {
    switch (event.type) {
      case "run.started":
      case "run.resumed":
        this.#begin(event);
        return;
      case "step.started":
        this.#stepStarted(event);
        return;
      case "step.completed":
        this.#endStep(event, "succeeded", null, { "workflow.step.response_id": event.responseId ?? undefined, ...usageAttributes("workflow.step.usage", event.usage) });
        return;
      case "step.retrying":
        this.#endStep(event, "retrying", event.error.message, { "error.type": event.error.code, "workflow.step.retry_delay_ms": event.delayMs, ...usageAttributes("workflow.step.usage", event.usage) });
        return;
      case "step.failed":
        this.#endStep(event, "failed", event.error.message, { "error.type": event.error.code, "workflow.step.on_failure": event.onFailure, ...usageAttributes("workflow.step.usage", event.usage) });
        return;
      case "step.skipped":
        this.#skipped(event);
        return;
      case "run.completed":
        this.#end(event, "succeeded", null, event.usage);
        return;
      case "run.failed":
        this.#end(event, "failed", event.error, event.usage);
        return;
      case "run.cancelled":
        this.#end(event, event.interrupted === true ? "interrupted" : "cancelled", { code: event.interrupted === true ? "INTERRUPTED" : "CANCELLED", message: event.reason }, event.usage);
        return;
      case "run.interrupted":
        this.#end(event, "interrupted", { code: "INTERRUPTED", message: event.reason }, event.usage);
        return;
      // A paused run's span ends here (it may wait for days); `run.resumed` opens the next part of the trace.
      case "run.awaiting_approval":
        this.#end(event, "awaiting_approval", null, event.usage);
        return;
      case "step.delta":
      case "step.item":
      case "step.approval_requested":
      case "step.approval_resolved":
        return;
      default:
        event satisfies never;
    }
  }

  observeSpan(record: SpanRecord): void {
    const run = this.#runs.get(record.workflowRunId);
    if (!run || record.stepIndex === null) return;
    const parentSpanId = record.parentId === null ? (run.latestAttempt.get(record.stepIndex) ?? run.run.spanId) : otelSpanId(record.parentId);
    const startMs = Date.parse(record.startedAt ?? "") || Date.now();
    const endMs = Date.parse(record.endedAt ?? "") || startMs;
    const { name, attributes } = sdkSpanShape(record, this.#genAi);
    this.#send(run.traceId, { spanId: otelSpanId(record.spanId), parentSpanId, name, startMs, attributes: { ...attributes, "workflow.run_id": record.workflowRunId, "workflow.step.index": record.stepIndex } }, endMs, record.error);
  }

  #begin(event: EventOf<"run.started"> | EventOf<"run.resumed">): void {
    if (!event.trace) return;
    const attributes: Attributes = { "workflow.key": event.workflowKey, "workflow.run_id": event.workflowRunId, "workflow.version": event.versionHash };
    if (event.type === "run.resumed") Object.assign(attributes, { "workflow.resumed_by": event.resumedBy, "workflow.resumed_from_step": event.fromStepIndex });
    // A run whose end is never observed (its recording failed) must not hold memory forever.
    if (this.#runs.size >= maxOpenRuns) this.#runs.delete(this.#runs.keys().next().value as string);
    this.#runs.set(event.workflowRunId, {
      traceId: event.trace.traceId,
      run: { spanId: newSpanId(), parentSpanId: event.trace.parentSpanId, name: `workflow ${event.workflowKey}`, startMs: Date.parse(event.at), attributes },
      openSteps: new Map(),
      latestAttempt: new Map(),
    });
  }

  #stepStarted(event: EventOf<"step.started">): void {
    const run = this.#runs.get(event.workflowRunId);
    if (!run) return;
    const step: OpenSpan = {
      spanId: newSpanId(),
      parentSpanId: run.run.spanId,
      name: `step ${event.stepName}`,
      startMs: Date.parse(event.at),
      attributes: { "workflow.key": event.workflowKey, "workflow.run_id": event.workflowRunId, "workflow.step.index": event.stepIndex, "workflow.step.name": event.stepName, "workflow.step.attempt": event.attempt, "gen_ai.agent.name": event.agentKey, agent: event.agentKey },
    };
    run.openSteps.set(event.stepIndex, step);
    run.latestAttempt.set(event.stepIndex, step.spanId);
  }

  #endStep(event: WorkflowEvent & { stepIndex: number }, status: string, error: string | null, attributes: Attributes): void {
    const run = this.#runs.get(event.workflowRunId);
    const step = run?.openSteps.get(event.stepIndex);
    if (!run || !step) return;
    run.openSteps.delete(event.stepIndex);
    this.#send(run.traceId, { ...step, attributes: { ...step.attributes, ...attributes, "workflow.step.status": status } }, Date.parse(event.at), error);
  }

  #skipped(event: EventOf<"step.skipped">): void {
    const run = this.#runs.get(event.workflowRunId);
    if (!run) return;
    const at = Date.parse(event.at);
    const attributes = { "workflow.run_id": event.workflowRunId, "workflow.step.index": event.stepIndex, "workflow.step.name": event.stepName, "workflow.step.status": "skipped", "workflow.step.skip_reason": event.reason, agent: event.agentKey };
    this.#send(run.traceId, { spanId: newSpanId(), parentSpanId: run.run.spanId, name: `step ${event.stepName}`, startMs: at, attributes }, at, null);
  }

  #end(event: WorkflowEvent, status: string, error: { code: string; message: string } | null, usage: Usage): void {
    const run = this.#runs.get(event.workflowRunId);
    if (!run) return;
    this.#runs.delete(event.workflowRunId);
    const at = Date.parse(event.at);
    // Steps still open when the run ended (cancelled mid-attempt) end with it.
    for (const step of run.openSteps.values()) this.#send(run.traceId, { ...step, attributes: { ...step.attributes, "workflow.step.status": "cancelled" } }, at, null);
    const attributes = { ...run.run.attributes, "workflow.status": status, ...usageAttributes("workflow.usage", usage), ...(error ? { "error.type": error.code } : {}) };
    this.#send(run.traceId, { ...run.run, attributes }, at, status === "succeeded" || status === "awaiting_approval" ? null : (error?.message ?? status));
  }

  #send(traceId: string, span: OpenSpan, endMs: number, error: string | null): void {
    const end = Math.max(endMs, span.startMs);
    const context: SpanContext = { traceId, spanId: span.spanId, traceFlags: TraceFlags.SAMPLED };
    const attributes: Attributes = Object.fromEntries(Object.entries(span.attributes).filter(([, v]) => v !== undefined && v !== null));
    const readable: ReadableSpan = {
      name: span.name,
      kind: SpanKind.INTERNAL,
      spanContext: () => context,
      ...(span.parentSpanId ? { parentSpanContext: { traceId, spanId: span.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: false } } : {}),
      startTime: hrTime(span.startMs),
      endTime: hrTime(end),
      duration: hrTime(end - span.startMs),
      status: error === null ? { code: SpanStatusCode.UNSET } : { code: SpanStatusCode.ERROR, message: error },
      attributes,
      links: [],
      events: [],
      ended: true,
      resource: this.#resource,
      instrumentationScope: scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
    this.#emit(readable);
  }
}

function usageAttributes(prefix: string, usage: Usage): Attributes {
  return {
    [`${prefix}.requests`]: usage.requests,
    [`${prefix}.input_tokens`]: usage.inputTokens,
    [`${prefix}.output_tokens`]: usage.outputTokens,
    [`${prefix}.total_tokens`]: usage.totalTokens,
    "gen_ai.usage.input_tokens": usage.inputTokens,
    "gen_ai.usage.output_tokens": usage.outputTokens,
  };
}

/** The name and attributes of an SDK span: its kind, plus GenAI semantic-convention attributes where they apply. Never prompts or outputs. */
function sdkSpanShape(record: SpanRecord, genAi: GenAiDefaults): { name: string; attributes: Attributes } {
  const data = record.data;
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  const obj = (v: unknown) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {});
  const base: Attributes = { "workflow.sdk.kind": record.kind, "workflow.sdk.span_id": record.spanId, "workflow.sdk.trace_id": record.traceId };
  switch (record.kind) {
    case "agent":
      return { name: `invoke_agent ${record.name}`, attributes: { ...base, "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": record.name } };
    case "turn": {
      const usage = obj(data.usage);
      return {
        name: `turn ${num(data.turn) ?? ""}`.trim(),
        attributes: { ...base, "gen_ai.system": genAi.system, "gen_ai.request.model": genAi.model, "gen_ai.agent.name": str(data.agent_name), "gen_ai.usage.input_tokens": num(usage.input_tokens), "gen_ai.usage.output_tokens": num(usage.output_tokens) },
      };
    }
    case "response": {
      const response = obj(data._response);
      const usage = obj(response.usage);
      const model = str(response.model) ?? genAi.model;
      return {
        name: `chat ${model ?? ""}`.trim(),
        attributes: { ...base, "gen_ai.operation.name": "chat", "gen_ai.system": genAi.system, "gen_ai.request.model": model, "gen_ai.response.id": str(data.response_id), "gen_ai.usage.input_tokens": num(usage.input_tokens), "gen_ai.usage.output_tokens": num(usage.output_tokens) },
      };
    }
    case "generation": {
      const usage = obj(data.usage);
      const model = str(data.model) ?? genAi.model;
      return {
        name: `chat ${model ?? ""}`.trim(),
        attributes: { ...base, "gen_ai.operation.name": "chat", "gen_ai.system": genAi.system, "gen_ai.request.model": model, "gen_ai.usage.input_tokens": num(usage.input_tokens), "gen_ai.usage.output_tokens": num(usage.output_tokens) },
      };
    }
    case "function":
      return { name: `execute_tool ${record.name}`, attributes: { ...base, "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": record.name } };
    case "handoff":
      return { name: `handoff ${str(data.from_agent) ?? ""} -> ${str(data.to_agent) ?? ""}`, attributes: { ...base, "workflow.handoff.from": str(data.from_agent), "workflow.handoff.to": str(data.to_agent) } };
    default:
      return { name: record.name, attributes: base };
  }
}

/** The SDK's span ids (`span_<hex>`) as OpenTelemetry span ids: the same SDK id always gives the same 16 hex digits, so parent links survive. */
export function otelSpanId(sdkSpanId: string): string {
  return createHash("sha256").update(sdkSpanId).digest("hex").slice(0, 16);
}

const newSpanId = () => randomBytes(8).toString("hex");

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}
