import type { WorkflowEvent } from "./events";
import type { RunRecord, StepRecord } from "./records";
import type { StepStatus } from "./statuses";
import { zeroUsage } from "./usage";

export type RunPatch = Partial<Omit<RunRecord, "id" | "workflowKey" | "input" | "conversationId" | "idempotencyKey" | "traceId" | "createdAt">>;
export type StepPatch = Partial<Omit<StepRecord, "index" | "stage" | "iteration">>;
/** Update one step by index, or every step whose status is in `whereStatus` (from index `fromIndex` on, when given). */
export type StepUpdate = { index: number; patch: StepPatch } | { whereStatus: StepStatus[]; fromIndex?: number; patch: StepPatch };

/** What one event changes in the run and step rows; every recorder applies exactly this. */
export type Projection = {
  run: RunPatch;
  createSteps: StepRecord[];
  updateSteps: StepUpdate[];
};

/** The row changes an event implies. Pure: the single definition of how events become records. */
export function projectEvent(event: WorkflowEvent): Projection {
  const run: RunPatch = { lastSeq: event.seq };
  const createSteps: StepRecord[] = [];
  const updateSteps: StepUpdate[] = [];
  switch (event.type) {
    case "run.started":
      run.status = "running";
      run.startedAt = event.at;
      event.steps.forEach((s, index) =>
        createSteps.push({
          index,
          name: s.name,
          agentKey: s.agentKey,
          stage: s.stage ?? null,
          iteration: s.iteration ?? null,
          status: "pending",
          input: null,
          output: null,
          structuredOutput: null,
          error: null,
          skipReason: null,
          attempts: 0,
          usage: zeroUsage(),
          responseId: null,
          startedAt: null,
          endedAt: null,
        }),
      );
      break;
    case "step.started":
      if (event.fromApproval === true) {
        updateSteps.push({ index: event.stepIndex, patch: { status: "running" } });
        break;
      }
      updateSteps.push({
        index: event.stepIndex,
        patch:
          event.attempt === 1
            ? { status: "running", agentKey: event.agentKey, input: event.input, attempts: event.attempt, error: null, endedAt: null, startedAt: event.at }
            : { status: "running", agentKey: event.agentKey, input: event.input, attempts: event.attempt, error: null, endedAt: null },
      });
      break;
    case "step.delta":
    case "step.item":
      break;
    case "step.completed":
      updateSteps.push({
        index: event.stepIndex,
        patch: { status: "succeeded", output: event.output, structuredOutput: event.structuredOutput, usage: event.usage, responseId: event.responseId, endedAt: event.at },
      });
      break;
    case "step.retrying":
      updateSteps.push({ index: event.stepIndex, patch: { error: { code: event.error.code, message: event.error.message }, usage: event.usage } });
      break;
    case "step.skipped":
      updateSteps.push({ index: event.stepIndex, patch: { status: "skipped", skipReason: event.reason, startedAt: event.at, endedAt: event.at } });
      break;
    case "step.failed":
      updateSteps.push({ index: event.stepIndex, patch: { status: "failed", error: event.error, usage: event.usage, endedAt: event.at } });
      break;
    case "step.approval_requested":
      updateSteps.push({ index: event.stepIndex, patch: { status: "awaiting_approval", usage: event.usage } });
      break;
    case "step.approval_resolved":
      break;
    case "run.awaiting_approval":
      Object.assign(run, { status: "awaiting_approval", usage: event.usage } satisfies RunPatch);
      break;
    case "run.completed":
      Object.assign(run, { status: "succeeded", finalOutput: event.finalOutput, structuredOutput: event.structuredOutput, usage: event.usage, endedAt: event.at } satisfies RunPatch);
      break;
    case "run.failed":
      Object.assign(run, { status: "failed", error: event.error, usage: event.usage, endedAt: event.at } satisfies RunPatch);
      break;
    case "run.cancelled":
      Object.assign(run, {
        status: event.interrupted === true ? "interrupted" : "cancelled",
        error: { code: event.interrupted === true ? "INTERRUPTED" : "CANCELLED", message: event.reason },
        usage: event.usage,
        endedAt: event.at,
      } satisfies RunPatch);
      updateSteps.push({ whereStatus: ["running", "pending", "awaiting_approval"], patch: { status: "cancelled", endedAt: event.at } });
      break;
    case "run.interrupted":
      Object.assign(run, { status: "interrupted", error: { code: "INTERRUPTED", message: event.reason }, usage: event.usage, endedAt: event.at } satisfies RunPatch);
      updateSteps.push({ whereStatus: ["running", "pending"], patch: { status: "cancelled", endedAt: event.at } });
      break;
    case "run.resumed":
      Object.assign(run, { status: "running", error: null, finalOutput: null, structuredOutput: null, endedAt: null, versionHash: event.versionHash } satisfies RunPatch);
      // Steps from the resume point run again; their attempts and usage so far are kept.
      updateSteps.push({ whereStatus: ["running", "failed", "cancelled"], fromIndex: event.fromStepIndex, patch: { status: "pending", error: null, endedAt: null } });
      break;
    default:
      event satisfies never;
  }
  return { run, createSteps, updateSteps };
}

/**
 * Applies a projection's step changes to an in-memory list of step rows (creates, then updates), adding
 * every row it created or changed to `touched` when given.
 */
export function applyToSteps(steps: StepRecord[], projection: Projection, touched?: Set<StepRecord>): void {
  steps.push(...projection.createSteps);
  for (const step of projection.createSteps) touched?.add(step);
  for (const update of projection.updateSteps) {
    for (const step of steps) {
      if ("index" in update ? step.index === update.index : update.whereStatus.includes(step.status) && step.index >= (update.fromIndex ?? 0)) {
        Object.assign(step, update.patch);
        touched?.add(step);
      }
    }
  }
}
