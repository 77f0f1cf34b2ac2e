import type { EventOf } from "./events";
import type { RunRecord, StepRecord } from "./records";
import { addUsage, zeroUsage } from "./usage";

/**
 * The event that records a run as interrupted from outside its execution (its server died and it is not
 * resumed, or shutdown could not stop it in time): the next seq, the usage its steps recorded.
 */
export function runInterruptedEvent(run: RunRecord, steps: readonly StepRecord[], reason: string, at: Date = new Date()): EventOf<"run.interrupted"> {
  const running = steps.find((s) => s.status === "running");
  return {
    type: "run.interrupted",
    workflowRunId: run.id,
    workflowKey: run.workflowKey,
    seq: run.lastSeq + 1,
    at: at.toISOString(),
    reason,
    stepIndex: running?.index ?? null,
    usage: steps.reduce((sum, s) => addUsage(sum, s.usage), zeroUsage()),
  };
}
