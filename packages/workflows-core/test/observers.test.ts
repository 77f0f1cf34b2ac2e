import { describe, expect, it } from "vitest";
import type { SpanRecord, WorkflowEvent, WorkflowSpec } from "../src";
import { collect, httpError, defaultResponder, setup } from "./fixtures";
import type { Responder } from "../src/testing";

const chain = (steps: WorkflowSpec["steps"]): WorkflowSpec => ({ key: "chain", displayName: "Chain", description: "test", steps });
const failFirst = (n: number): Responder => (request, i) => (i < n ? { error: httpError(500) } : defaultResponder(request, i));

describe("trace context", () => {
  it("a run gets a new W3C trace id, stored on the run and carried by run.started", async () => {
    const { runner, recorder } = setup([chain([{ name: "a", agentKey: "echo" }])]);
    const events = await collect(runner.stream("chain", "hi"));
    const stored = recorder.get(events[0]!.workflowRunId);
    expect(stored.run.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(events[0]).toMatchObject({ type: "run.started", trace: { traceId: stored.run.traceId, parentSpanId: null } });
  });

  it("continues the caller's trace when given one, and a resume continues the run's trace", async () => {
    const trace = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentSpanId: "00f067aa0ba902b7" };
    const { runner, recorder } = setup([chain([{ name: "a", agentKey: "echo" }])], (request, i) => (i === 0 ? { error: httpError(400) } : defaultResponder(request, i)));
    const first = await runner.run("chain", "hi", { trace });
    expect(first.status).toBe("failed");
    expect(recorder.get(first.workflowRunId).run.traceId).toBe(trace.traceId);
    const events: WorkflowEvent[] = [];
    const resumed = await runner.resume(first.workflowRunId, { resumedBy: "api", onEvent: (e) => events.push(e) });
    await resumed.done;
    expect(events.find((e) => e.type === "run.resumed")).toMatchObject({ trace: { traceId: trace.traceId, parentSpanId: null } });
  });
});

describe("runner observers", () => {
  it("observeSpan sees every SDK span of a step after that attempt's step.started, in one order with the events", async () => {
    const seen: ({ kind: "event"; event: WorkflowEvent } | { kind: "span"; span: SpanRecord })[] = [];
    const { runner, recorder } = setup([chain([{ name: "a", agentKey: "pinger", maxTurns: 2, onFailure: "skip" }, { name: "b", agentKey: "echo" }])], failFirst(1), {}, {
      observe: (event) => seen.push({ kind: "event", event }),
      observeSpan: (span) => seen.push({ kind: "span", span }),
    });
    const result = await runner.run("chain", "hi");
    const spans = seen.flatMap((s) => (s.kind === "span" ? [s.span] : []));
    expect(spans.length).toBeGreaterThan(0);
    expect(spans.length).toBe(recorder.get(result.workflowRunId).spans.length);
    // Each span comes after the step.started of its step and before the run's end.
    for (const [at, item] of seen.entries()) {
      if (item.kind !== "span") continue;
      const before = seen.slice(0, at).flatMap((s) => (s.kind === "event" ? [s.event] : []));
      expect(before.some((e) => e.type === "step.started" && e.stepIndex === item.span.stepIndex)).toBe(true);
      expect(before.some((e) => e.type === "run.completed" || e.type === "run.failed")).toBe(false);
    }
    expect(spans.some((s) => s.kind === "function" && s.name === "ping")).toBe(true);
  });
});
