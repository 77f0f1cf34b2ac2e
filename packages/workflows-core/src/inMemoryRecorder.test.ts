import { describe, expect, it } from "vitest";
import { InMemoryRunRecorder } from "./inMemoryRecorder";

describe("InMemoryRunRecorder", () => {
  it("rejects (never throws) for an unknown run", async () => {
    const recorder = new InMemoryRunRecorder();
    const event = { type: "step.delta", workflowRunId: "nope", workflowKey: "k", seq: 1, at: "", stepIndex: 0, stepName: "a", delta: "x" } as const;
    await expect(recorder.append(event)).rejects.toThrow('Unknown run "nope".');
    await expect(recorder.recordSpan({ workflowRunId: "nope", stepIndex: 0, traceId: "t", spanId: "s", parentId: null, kind: "agent", name: "a", startedAt: null, endedAt: null, error: null, data: {} })).rejects.toThrow('Unknown run "nope".');
  });

  it("rejects an event whose seq does not follow, and hands out copies of existing runs", async () => {
    const recorder = new InMemoryRunRecorder();
    await recorder.createRun({ id: "r1", workflowKey: "k", versionHash: "h", input: "i", idempotencyKey: "key" });
    const again = await recorder.createRun({ id: "r2", workflowKey: "k", versionHash: "h", input: "i", idempotencyKey: "key" });
    expect(again.status).toBe("existing");
    again.run.status = "failed";
    expect(recorder.get("r1").run.status).toBe("pending");
    await expect(recorder.append({ type: "step.delta", workflowRunId: "r1", workflowKey: "k", seq: 2, at: "", stepIndex: 0, stepName: "a", delta: "x" })).rejects.toThrow("Event seq 2 does not follow 0");
  });

  it("forgets a run: its id and idempotency key are free again", async () => {
    const recorder = new InMemoryRunRecorder();
    await recorder.createRun({ id: "r1", workflowKey: "k", versionHash: "h", input: "i", idempotencyKey: "key" });
    expect(recorder.forget("r1")).toBe(true);
    expect(recorder.forget("r1")).toBe(false);
    expect(recorder.runIds()).toEqual([]);
    await expect(recorder.loadRun("r1")).resolves.toBeNull();
    expect((await recorder.createRun({ id: "r2", workflowKey: "k", versionHash: "h", input: "i", idempotencyKey: "key" })).status).toBe("created");
  });
});
