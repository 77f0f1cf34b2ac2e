import type { PlanNode } from "../plan";
import type { Executor } from "./executor";
import { runLeafStep } from "./leafStep";

/** A top-level step: runs, settles, and stops the run when it fails under `onFailure: "stop"`. */
export const runSingleStep: Executor<Extract<PlanNode, { kind: "step" }>> = async (host, { slot }) => {
  const end = await runLeafStep(host, slot, host.context());
  if (end.kind === "cancelled") return { kind: "cancelled", stepIndex: slot.index };
  if (end.kind === "paused") return { kind: "paused", stepIndex: slot.index };
  host.settle(end.result);
  if (end.kind === "failed" && !end.goOn) return { kind: "failed", error: end.error, stepIndex: slot.index };
  return { kind: "continue" };
};
