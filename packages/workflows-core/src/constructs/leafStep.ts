import { classifyFailure, StepFailure } from "../failures";
import type { Slot } from "../plan";
import type { StepRecord } from "../records";
import type { LeafStep, StepContext, StepResult } from "../specs";
import { zeroUsage } from "../usage";
import { runAgentStep } from "./agentStep";
import { runCodeStep } from "./codeStep";
import { runSubWorkflowStep } from "./subWorkflow";
import type { RunHost, StepEnd } from "./executor";

/** A recorded row a resume does not run again: it succeeded, was skipped, or failed under `onFailure: "skip"`. */
export function isSettled(row: StepRecord | undefined, step: LeafStep): boolean {
  if (!row) return false;
  return row.status === "succeeded" || row.status === "skipped" || (row.status === "failed" && step.onFailure === "skip");
}

/**
 * Runs one leaf step in its slot: its recorded result when a resume finds it settled, else its guard, then
 * its agent, its function or its child workflow. Every construct runs its steps through here.
 */
export async function runLeafStep(host: RunHost, slot: Slot, ctx: StepContext): Promise<StepEnd> {
  const { step, index } = slot;
  const recorded = host.recorded(index);
  if (recorded && isSettled(recorded, step)) return reuse(slot, recorded);
  try {
    if (step.guard && !step.guard(ctx)) {
      const reason = step.guardReason ? step.guardReason(ctx) : "guard returned false";
      if (step.onGuardFalse === "fail") return failedBeforeRun(host, slot, new StepFailure("GUARD_REJECTED", `Step "${step.name}" did not pass its guard: ${reason}`));
      host.emit({ type: "step.skipped", stepIndex: index, stepName: step.name, agentKey: slot.agentKey, reason });
      return { kind: "succeeded", result: { index, name: step.name, agentKey: slot.agentKey, status: "skipped", output: null, structuredOutput: null } };
    }
  } catch (error) {
    return failedBeforeRun(host, slot, new StepFailure("GUARD_ERROR", `Guard threw: ${messageOf(error)}`));
  }
  const start = { index, attempts: recorded?.attempts ?? 0, usage: recorded?.usage ?? zeroUsage() };
  if (step.kind === "code") return runCodeStep(host, step, { ...start, ctx });
  if (step.kind === "workflow") return runSubWorkflowStep(host, step, { ...start, ctx });
  let input: string;
  try {
    input = step.inputMapper ? step.inputMapper(ctx) : ctx.previousOutput;
    if (typeof input !== "string") throw new Error(`it returned ${typeof input}, expected a string`);
  } catch (error) {
    return failedBeforeRun(host, slot, new StepFailure("MAPPER_ERROR", `Input mapper failed: ${messageOf(error)}`));
  }
  return runAgentStep(host, step, { ...start, input });
}

function reuse(slot: Slot, row: StepRecord): StepEnd {
  const status = row.status === "succeeded" ? "succeeded" : row.status === "skipped" ? "skipped" : "failed";
  const result: StepResult = { index: slot.index, name: row.name, agentKey: row.agentKey, status, output: row.output, structuredOutput: row.structuredOutput ?? null };
  return status === "failed" ? { kind: "failed", error: row.error ?? { code: "INTERNAL", message: "failed" }, goOn: true, result } : { kind: "succeeded", result };
}

/** A guard or mapper failed: nothing ran, so a fallback agent cannot help; skip or stop. */
function failedBeforeRun(host: RunHost, slot: Slot, failure: StepFailure): StepEnd {
  const { step, index } = slot;
  const error = classifyFailure(failure);
  const goOn = step.onFailure === "skip";
  const recorded = host.recorded(index);
  host.emit({ type: "step.failed", stepIndex: index, stepName: step.name, agentKey: slot.agentKey, attempt: (recorded?.attempts ?? 0) + 1, error, usage: recorded?.usage ?? zeroUsage(), onFailure: goOn ? "skip" : "stop", durationMs: 0 });
  return { kind: "failed", error, goOn, result: { index, name: step.name, agentKey: slot.agentKey, status: "failed", output: null, structuredOutput: null } };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
