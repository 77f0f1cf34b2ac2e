import { describe, expect, it } from "vitest";
import type { RunDetails, RunEvent } from "./index.js";
import { formatRun, RunPrinter } from "./render.js";

const base = { workflowRunId: "r1", workflowKey: "demo", at: "2026-01-01T00:00:00.000Z" };
const usage = { requests: 1, inputTokens: 3, outputTokens: 4, totalTokens: 7 };
let seq = 0;
const ev = (e: Record<string, unknown>) => ({ ...base, seq: ++seq, ...e }) as RunEvent;

function printAll(events: RunEvent[]): { text: string; code: number | null } {
  let text = "";
  let code: number | null = null;
  const printer = new RunPrinter((t) => (text += t));
  for (const e of events) code = printer.print(e) ?? code;
  return { text, code };
}

const started = ev({ type: "run.started", input: "x", versionHash: "h", steps: [{ name: "write", agentKey: "writer" }] });
const stepStarted = ev({ type: "step.started", stepIndex: 0, stepName: "write", agentKey: "writer", input: "x", attempt: 1 });
const stepDone = ev({ type: "step.completed", stepIndex: 0, stepName: "write", agentKey: "writer", output: "Hello world", structuredOutput: null, usage, responseId: null, durationMs: 10 });
const runDone = ev({ type: "run.completed", finalOutput: "Hello world", structuredOutput: null, usage, durationMs: 12 });

describe("RunPrinter", () => {
  it("prints a streamed final output once, not again after the success line", () => {
    const deltas = [ev({ type: "step.delta", stepIndex: 0, stepName: "write", delta: "Hello " }), ev({ type: "step.delta", stepIndex: 0, stepName: "write", delta: "world" })];
    const { text, code } = printAll([started, stepStarted, ...deltas, stepDone, runDone]);
    expect(code).toBe(0);
    expect(text.split("Hello world")).toHaveLength(2);
    expect(text).toMatch(/✓ run r1 succeeded in 0\.0s, 7 tokens\n$/);
  });

  it("says which parallel stage or loop pass a step belongs to", () => {
    const loop = ev({ type: "run.started", input: "x", versionHash: "h", steps: [{ name: "write", agentKey: "writer", stage: "revise", iteration: 1 }, { name: "write", agentKey: "writer", stage: "revise", iteration: 2 }] });
    const { text } = printAll([loop, ev({ type: "step.started", stepIndex: 1, stepName: "write", agentKey: "writer", input: "x", attempt: 1 })]);
    expect(text).toContain("● [2/2] write (writer) in revise pass 2\n");
  });

  it("shows a pending approval with its id, tool and arguments, and keeps following through the pause", () => {
    const requested = ev({ type: "step.approval_requested", stepIndex: 0, stepName: "write", approvalId: "ap-1", agentKey: "billing_specialist", toolName: "issue_refund", arguments: '{"amount":49}', deadlineAt: null, usage });
    const paused = ev({ type: "run.awaiting_approval", stepIndex: 0, approvalIds: ["ap-1"], deadlineAt: null, usage });
    const resolved = ev({ type: "step.approval_resolved", stepIndex: 0, stepName: "write", approvalId: "ap-1", toolName: "issue_refund", approved: false, expired: false, reason: "too much", decidedBy: "local" });
    const { text, code } = printAll([started, stepStarted, requested, paused, resolved]);
    expect(code).toBeNull();
    expect(text).toContain('⏸ write waits for approval ap-1: billing_specialist wants issue_refund({"amount":49})');
    expect(text).toContain("wf approve r1 --approval ap-1");
    expect(text).toContain("✗ approval ap-1 (issue_refund) rejected by local: too much");
  });

  it("prints the final output after the success line when nothing was streamed", () => {
    const { text } = printAll([started, stepStarted, stepDone, runDone]);
    expect(text).toMatch(/✓ run r1 succeeded in 0\.0s, 7 tokens\n\nHello world\n$/);
  });

  it("prints the final output when what was streamed differs from it (a retried step)", () => {
    const partial = ev({ type: "step.delta", stepIndex: 0, stepName: "write", delta: "Hel" });
    const { text } = printAll([started, stepStarted, partial, ev({ ...stepStarted, attempt: 2 }), stepDone, runDone]);
    expect(text).toMatch(/\n\nHello world\n$/);
  });
});

describe("formatRun", () => {
  const run: RunDetails["run"] = {
    id: "r1", workflowRunId: "r1", workflowKey: "demo", versionHash: "h", status: "failed", input: "x", finalOutput: null, structuredOutput: null,
    error: { code: "MODEL_ERROR", message: "boom" }, conversationId: null, idempotencyKey: null, createdBy: "local", usage, createdAt: "2026-01-01T00:00:00.000Z",
    startedAt: "2026-01-01T00:00:00.000Z", endedAt: "2026-01-01T00:00:01.500Z", lastSeq: 5, traceId: null,
  };
  const step = (over: Partial<RunDetails["steps"][number]>): RunDetails["steps"][number] => ({
    index: 0, name: "write", agentKey: "writer", stage: null, iteration: null, status: "succeeded", input: "x", output: "y", structuredOutput: null, error: null, skipReason: null,
    attempts: 1, usage, responseId: null, startedAt: null, endedAt: null, ...over,
  });

  it("shows the status, each step with status, attempts and usage, and the error", () => {
    const text = formatRun({
      run,
      steps: [step({}), step({ index: 1, name: "check", status: "failed", attempts: 2, error: { code: "MODEL_ERROR", message: "boom" } }), step({ index: 2, name: "tidy", status: "skipped", skipReason: "guard false" })],
    });
    expect(text).toBe(
      [
        "run r1 (demo): failed in 1.5s, 7 tokens (3 in / 4 out)",
        "created 2026-01-01T00:00:00.000Z",
        "input: x",
        "steps:",
        "  1. write (writer) succeeded, 1 attempt, 7 tokens (3 in / 4 out)",
        "  2. check (writer) failed [MODEL_ERROR] boom, 2 attempts, 7 tokens (3 in / 4 out)",
        "  3. tidy (writer) skipped: guard false, 1 attempt, 7 tokens (3 in / 4 out)",
        "error [MODEL_ERROR]: boom",
        "",
      ].join("\n"),
    );
  });
});
