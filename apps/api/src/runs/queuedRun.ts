import { ConflictError, pausedRunStatuses, terminalRunStatuses } from "@workflows/core";
import type { Services } from "../context";
import { resumeRun } from "./resumeRun";

/** Whether a live run's owner is gone (the instances' heartbeats decide). */
export type OrphanCheck = (workflowRunId: string) => Promise<boolean>;

/**
 * Executes a run this instance took from the queue, and settles when it ends. A run that never started
 * starts here (if two instances got it, the first `run.started` wins). A run that started elsewhere is taken
 * over only once its owner is dead: the queue hands a job on when its worker stops heart-beating, which
 * must not start a second execution of a run whose owner is alive. Finished runs (cancelled while queued)
 * are left as they are.
 */
export async function executeQueuedRun(services: Services, isOrphaned: OrphanCheck, workflowRunId: string, parentSpanId: string | null = null): Promise<void> {
  if (services.activeRuns.has(workflowRunId)) return;
  const recorded = await services.runs.getRunRecord(workflowRunId);
  if (!recorded || terminalRunStatuses.has(recorded.status)) return;
  // A paused run is queued again once its approvals are decided: nobody owns it, it simply continues.
  const afterApproval = pausedRunStatuses.has(recorded.status);
  if (!afterApproval && recorded.lastSeq > 0 && !(await isOrphaned(workflowRunId))) return;
  let done: Promise<unknown>;
  try {
    const request = afterApproval ? { workflowRunId, resumedBy: "approval" as const } : { workflowRunId, resumedBy: "start-up" as const, orphaned: true, parentSpanId };
    done = (await resumeRun(services, request)).done;
  } catch (error) {
    // Not resumable (any more), or another instance claimed it meanwhile.
    if (error instanceof ConflictError) return;
    throw error;
  }
  await done.catch(() => undefined);
}
