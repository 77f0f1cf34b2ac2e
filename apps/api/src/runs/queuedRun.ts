import { ConflictError, terminalRunStatuses } from "@workflows/core";
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
  const recorded = await services.runs.getRun(workflowRunId);
  if (!recorded || terminalRunStatuses.has(recorded.run.status)) return;
  if (recorded.run.lastSeq > 0 && !(await isOrphaned(workflowRunId))) return;
  let done: Promise<unknown>;
  try {
    done = (await resumeRun(services, { workflowRunId, resumedBy: "start-up", orphaned: true, parentSpanId })).done;
  } catch (error) {
    // Not resumable (any more), or another instance claimed it meanwhile.
    if (error instanceof ConflictError) return;
    throw error;
  }
  await done.catch(() => undefined);
}
