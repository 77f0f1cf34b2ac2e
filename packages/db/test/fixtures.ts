// Realistic event sequences, shaped as the runner emits them (events.ts), for recorder tests and the bench.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EventBody, NewRun, Usage, WorkflowEvent } from "@workflows/core";

export const usage = (n: number): Usage => ({ requests: n, inputTokens: 10 * n, outputTokens: 5 * n, totalTokens: 15 * n });

/** Stamps bodies with run id, key, gap-free seq and increasing timestamps. */
export function stamper(run: Pick<NewRun, "id" | "workflowKey">, start = Date.parse("2025-03-01T10:00:00.000Z")) {
  let seq = 0;
  let t = start;
  return (body: EventBody): WorkflowEvent =>
    ({ ...body, workflowRunId: run.id, workflowKey: run.workflowKey, seq: ++seq, at: new Date((t += 7)).toISOString() });
}

export const newRun = (id: string, extra: Partial<NewRun> = {}): NewRun => ({ id, workflowKey: "research", versionHash: "v1", input: `input of ${id}`, ...extra });

const stepNames = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `step${i}`, agentKey: `agent${i}` }));

function stepOk(stamp: ReturnType<typeof stamper>, i: number, deltas = 2): WorkflowEvent[] {
  const out: WorkflowEvent[] = [stamp({ type: "step.started", stepIndex: i, stepName: `step${i}`, agentKey: `agent${i}`, input: `in${i}`, attempt: 1 })];
  for (let d = 0; d < deltas; d++) out.push(stamp({ type: "step.delta", stepIndex: i, stepName: `step${i}`, delta: `d${d} ` }));
  out.push(stamp({ type: "step.item", stepIndex: i, stepName: `step${i}`, item: { kind: "message", agentKey: `agent${i}`, text: `out${i}` } }));
  out.push(
    stamp({
      type: "step.completed",
      stepIndex: i,
      stepName: `step${i}`,
      agentKey: `agent${i}`,
      output: `out${i}`,
      structuredOutput: i % 2 === 0 ? { n: i, tags: ["a", "b"] } : null,
      usage: usage(1),
      responseId: `resp_${i}`,
      durationMs: 12,
    }),
  );
  return out;
}

export function succeededRun(run: NewRun, steps = 3, deltas = 2): WorkflowEvent[] {
  const stamp = stamper(run);
  const events = [stamp({ type: "run.started", input: run.input, versionHash: run.versionHash, steps: stepNames(steps) })];
  for (let i = 0; i < steps; i++) events.push(...stepOk(stamp, i, deltas));
  events.push(stamp({ type: "run.completed", finalOutput: `out${steps - 1}`, structuredOutput: { done: true }, usage: usage(steps), durationMs: 100 }));
  return events;
}

/** Step 0 succeeds, step 1 fails with onFailure "stop", step 2 never runs. */
export function failedRun(run: NewRun): WorkflowEvent[] {
  const stamp = stamper(run);
  return [
    stamp({ type: "run.started", input: run.input, versionHash: run.versionHash, steps: stepNames(3) }),
    ...stepOk(stamp, 0),
    stamp({ type: "step.started", stepIndex: 1, stepName: "step1", agentKey: "agent1", input: "in1", attempt: 1 }),
    stamp({ type: "step.delta", stepIndex: 1, stepName: "step1", delta: "partial" }),
    stamp({
      type: "step.failed",
      stepIndex: 1,
      stepName: "step1",
      agentKey: "agent1",
      attempt: 1,
      error: { code: "MODEL_ERROR", message: "upstream 500" },
      usage: usage(1),
      onFailure: "stop",
      durationMs: 3,
    }),
    stamp({ type: "run.failed", error: { code: "MODEL_ERROR", message: "upstream 500" }, stepIndex: 1, usage: usage(2), durationMs: 40 }),
  ];
}

/** Step 1's guard is false; steps 0 and 2 succeed. */
export function skippedStepRun(run: NewRun): WorkflowEvent[] {
  const stamp = stamper(run);
  return [
    stamp({ type: "run.started", input: run.input, versionHash: run.versionHash, steps: stepNames(3) }),
    ...stepOk(stamp, 0),
    stamp({ type: "step.skipped", stepIndex: 1, stepName: "step1", agentKey: "agent1", reason: "guard returned false" }),
    ...stepOk(stamp, 2),
    stamp({ type: "run.completed", finalOutput: "out2", structuredOutput: null, usage: usage(2), durationMs: 50 }),
  ];
}

/** Cancelled while step 1 runs: steps 1 (running) and 2 (pending) become cancelled. */
export function cancelledRun(run: NewRun): WorkflowEvent[] {
  const stamp = stamper(run);
  return [
    stamp({ type: "run.started", input: run.input, versionHash: run.versionHash, steps: stepNames(3) }),
    ...stepOk(stamp, 0),
    stamp({ type: "step.started", stepIndex: 1, stepName: "step1", agentKey: "agent1", input: "in1", attempt: 1 }),
    stamp({ type: "step.delta", stepIndex: 1, stepName: "step1", delta: "par" }),
    stamp({ type: "run.cancelled", reason: "Cancelled by the user.", stepIndex: 1, usage: usage(1), durationMs: 20 }),
  ];
}

/** A fresh temp folder, removed by the returned function. */
export function tempDir(prefix = "wf-db-"): { dir: string; url: (name?: string) => string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, url: (name = "test.db") => `file:${path.join(dir, name)}`, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
