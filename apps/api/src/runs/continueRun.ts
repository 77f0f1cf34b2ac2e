import { ConflictError } from "@workflows/core";
import type { Services } from "../context";
import { resumeRun } from "./resumeRun";

/**
 * Continues a run whose approvals are all decided. With several instances it goes through the queue like
 * any run (whichever instance has a slot takes it); alone, this server resumes it. Either way the run
 * claims itself with `run.resumed` on its own seq, so a second continuation (a sweep, another instance) loses
 * and leaves it be.
 */
export async function continueAfterApproval(services: Services, workflowRunId: string): Promise<void> {
  if (services.queue) {
    await services.queue.enqueue(workflowRunId, null);
    services.logger.info({ workflowRunId }, "run queued to continue after its approvals");
    return;
  }
  if (services.activeRuns.has(workflowRunId)) return;
  try {
    await resumeRun(services, { workflowRunId, resumedBy: "approval" });
  } catch (error) {
    // Continued meanwhile by someone else, or cancelled: nothing to do.
    if (!(error instanceof ConflictError)) throw error;
  }
}
