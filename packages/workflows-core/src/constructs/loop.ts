import type { PlanNode } from "../plan";
import type { Executor, NodeEnd, RunHost } from "./executor";
import { messageOf, runLeafStep } from "./leafStep";

type Node = Extract<PlanNode, { kind: "loop" }>;

/**
 * Runs the loop's steps pass after pass until `until` holds after a pass, at most `maxIterations` passes.
 * Each pass has its own rows (the iteration number on each); rows of passes not needed end `skipped`.
 */
export const runLoop: Executor<Node> = async (host, node) => {
  const { stage, passes } = node;
  for (const [at, pass] of passes.entries()) {
    const iteration = at + 1;
    for (const slot of pass) {
      const end = await runLeafStep(host, slot, host.context({ iteration }));
      if (end.kind === "cancelled") return { kind: "cancelled", stepIndex: slot.index };
      if (end.kind === "paused") return { kind: "paused", stepIndex: slot.index };
      host.settle(end.result);
      if (end.kind === "failed" && !end.goOn) return { kind: "failed", error: end.error, stepIndex: slot.index };
    }
    const lastIndex = pass.at(-1)?.index ?? 0;
    let done: boolean;
    try {
      done = stage.until(host.context({ iteration })) === true;
    } catch (error) {
      return { kind: "failed", error: { code: "GUARD_ERROR", message: `Condition of loop "${stage.name}" threw: ${messageOf(error)}` }, stepIndex: lastIndex };
    }
    if (done) {
      skipUnused(host, node, iteration);
      return { kind: "continue" };
    }
  }
  if (stage.onExhausted === "continue") return { kind: "continue" };
  const last = passes.at(-1)?.at(-1)?.index ?? 0;
  return { kind: "failed", error: { code: "LOOP_EXHAUSTED", message: `Loop "${stage.name}" did not reach its condition in ${stage.maxIterations} passes.` }, stepIndex: last } satisfies NodeEnd;
};

function skipUnused(host: RunHost, node: Node, lastIteration: number): void {
  const reason = `loop "${node.stage.name}" ended after pass ${lastIteration}`;
  for (const slot of node.passes.slice(lastIteration).flat()) {
    if (host.recorded(slot.index)?.status === "skipped") continue;
    host.emit({ type: "step.skipped", stepIndex: slot.index, stepName: slot.name, agentKey: slot.agentKey, reason });
  }
}
