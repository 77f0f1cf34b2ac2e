import type { Release } from "../admission";
import { outputOf } from "../context";
import type { PlanNode, Slot } from "../plan";
import type { Executor, NodeEnd, RunHost, StepEnd } from "./executor";
import { runLeafStep } from "./leafStep";

type Node = Extract<PlanNode, { kind: "parallel" }>;

/**
 * Runs the branches at once, all seeing the results from before the stage, then the reducer, which sees
 * every branch result (its default input: one section per branch). The run's own slot carries one branch;
 * each further branch running at the same time takes a slot of the admission, so a stage counts for what
 * it runs. A branch failing under `onFailure: "stop"` fails the stage: no further branch starts, those
 * running finish, then the run fails.
 */
export const runParallelStage: Executor<Node> = async (host, node) => {
  const ends = await runBranches(host, node);
  const failed = node.branches.find((slot) => {
    const end = ends.get(slot.index);
    return end?.kind === "failed" && !end.goOn;
  });
  if (node.branches.some((slot) => ends.get(slot.index)?.kind === "cancelled")) return { kind: "cancelled", stepIndex: node.branches[0]?.index ?? null };
  // A branch waiting for approvals holds the stage: the others are recorded, the reducer runs after the resume.
  const paused = node.branches.find((slot) => ends.get(slot.index)?.kind === "paused");
  if (paused && !failed) return { kind: "paused", stepIndex: paused.index };
  // Settled in branch order, whatever order they finished in: the context is the same on every replay.
  for (const slot of node.branches) {
    const end = ends.get(slot.index);
    if (end && end.kind !== "cancelled" && end.kind !== "paused") host.settle(end.result);
  }
  if (failed) {
    const end = ends.get(failed.index) as Extract<StepEnd, { kind: "failed" }>;
    return { kind: "failed", error: end.error, stepIndex: failed.index };
  }
  return runReducer(host, node, ends);
};

async function runReducer(host: RunHost, node: Node, ends: Map<number, StepEnd>): Promise<NodeEnd> {
  const sections = node.branches.map((slot) => {
    const end = ends.get(slot.index);
    const text = end && end.kind !== "cancelled" && end.kind !== "paused" && end.result.status === "succeeded" ? outputOf(end.result) : `(${end?.kind === "failed" ? "failed" : "no output"})`;
    return `## ${slot.name}\n${text}`;
  });
  const end = await runLeafStep(host, node.reducer, host.context({ previousOutput: sections.join("\n\n") }));
  if (end.kind === "cancelled") return { kind: "cancelled", stepIndex: node.reducer.index };
  if (end.kind === "paused") return { kind: "paused", stepIndex: node.reducer.index };
  host.settle(end.result);
  if (end.kind === "failed" && !end.goOn) return { kind: "failed", error: end.error, stepIndex: node.reducer.index };
  return { kind: "continue" };
}

/** Every branch's end, by slot index; branches not started (after a stopping failure) are absent. */
async function runBranches(host: RunHost, node: Node): Promise<Map<number, StepEnd>> {
  const ctx = host.context();
  const queue: Slot[] = [...node.branches];
  const ends = new Map<number, StepEnd>();
  let stop = false;
  const work = async () => {
    for (let slot = queue.shift(); slot && !stop; slot = queue.shift()) {
      const end = await runLeafStep(host, slot, ctx);
      ends.set(slot.index, end);
      if (end.kind === "cancelled" || (end.kind === "failed" && !end.goOn)) stop = true;
    }
  };
  const width = Math.min(node.stage.maxConcurrency ?? node.branches.length, node.branches.length);
  // Extra workers wait for a slot; once the queue is empty (or the stage stops) their wait is given up.
  const giveUp = new AbortController();
  const extra = Array.from({ length: width - 1 }, async () => {
    let release: Release;
    try {
      release = await host.admission.acquire(giveUp.signal);
    } catch {
      return;
    }
    try {
      await work();
    } finally {
      release();
    }
  });
  await work();
  giveUp.abort();
  await Promise.all(extra);
  return ends;
}
