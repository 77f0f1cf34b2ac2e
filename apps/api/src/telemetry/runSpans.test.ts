import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { zeroUsage, type WorkflowEvent } from "@workflows/core";
import { describe, expect, it } from "vitest";
import { RunSpans } from "./runSpans";

const trace = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentSpanId: null };
const base = { workflowRunId: "r1", workflowKey: "demo", at: "2026-01-01T00:00:00.000Z" };
let seq = 0;
const ev = (body: Record<string, unknown>) => ({ ...base, seq: ++seq, ...body }) as WorkflowEvent;

function setup() {
  const out: ReadableSpan[] = [];
  const spans = new RunSpans({ emit: (s) => out.push(s), resource: resourceFromAttributes({ "service.name": "t" }), genAi: { system: "offline", model: "m" } });
  return { out, spans };
}

describe("RunSpans", () => {
  it("a resumed run adds a second run span to the same trace, and each ends with its part of the run", () => {
    const { out, spans } = setup();
    spans.observe(ev({ type: "run.started", input: "x", versionHash: "v", steps: [], trace }));
    spans.observe(ev({ type: "run.failed", error: { code: "MODEL_ERROR", message: "boom" }, stepIndex: 0, usage: zeroUsage(), durationMs: 5 }));
    spans.observe(ev({ type: "run.resumed", fromStepIndex: 0, resumedBy: "api", previousStatus: "failed", versionHash: "v", trace }));
    spans.observe(ev({ type: "run.completed", finalOutput: "y", structuredOutput: null, usage: zeroUsage(), durationMs: 5 }));
    expect(out.map((s) => [s.name, s.spanContext().traceId, s.attributes["workflow.status"], s.status.code])).toEqual([
      ["workflow demo", trace.traceId, "failed", 2],
      ["workflow demo", trace.traceId, "succeeded", 0],
    ]);
    expect(out[1]?.attributes["workflow.resumed_by"]).toBe("api");
    expect(spans.openRuns).toBe(0);
  });

  it("skips runs without a trace context (recorded before traces existed)", () => {
    const { out, spans } = setup();
    spans.observe(ev({ type: "run.resumed", fromStepIndex: 0, resumedBy: "start-up", previousStatus: "running", versionHash: "v" }));
    spans.observe(ev({ type: "step.started", stepIndex: 0, stepName: "a", agentKey: "echo", input: "x", attempt: 1 }));
    spans.observe(ev({ type: "run.completed", finalOutput: "y", structuredOutput: null, usage: zeroUsage(), durationMs: 5 }));
    expect(out).toEqual([]);
  });

  it("ends a step still open when the run is cancelled", () => {
    const { out, spans } = setup();
    spans.observe(ev({ type: "run.started", input: "x", versionHash: "v", steps: [{ name: "a", agentKey: "echo" }], trace }));
    spans.observe(ev({ type: "step.started", stepIndex: 0, stepName: "a", agentKey: "echo", input: "x", attempt: 1 }));
    spans.observe(ev({ type: "run.cancelled", reason: "stop", stepIndex: 0, usage: zeroUsage(), durationMs: 5 }));
    expect(out.map((s) => [s.name, s.attributes["workflow.step.status"] ?? s.attributes["workflow.status"]])).toEqual([
      ["step a", "cancelled"],
      ["workflow demo", "cancelled"],
    ]);
    expect(out[0]?.parentSpanContext?.spanId).toBe(out[1]?.spanContext().spanId);
  });
});
