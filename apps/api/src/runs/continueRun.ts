import { ConflictError } from "@workflows/core";
import type { Services } from "../context";
import { resumeRun } from "./resumeRun";

/**
 * Continues a run whose approvals are all decided. With several instances it goes through the queue like
 * any run (whichever instance has a slot takes it); alone, this server resumes it. Either way the run
 * claims itself with `run.resumed` on its own seq, so a second continuation (a sweep, another instance) loses
 * and leaves it be. `untilClaimed` (the approve procedure, which answers with the run's status): alone, resolve
 * once the run is this server's again (its `run.resumed` stored, after a slot was free), as `runs.resume` does.
 */
export async function continueAfterApproval(services: Services, workflowRunId: string, opts: { untilClaimed?: boolean } = {}): Promise<void> {
  if (services.queue) {
    await services.queue.enqueue(workflowRunId, null);
    services.logger.info({ workflowRunId }, "run queued to continue after its approvals");
    return;
  }
  if (services.activeRuns.has(workflowRunId)) return;
  try {
    const resumed = await resumeRun(services, { workflowRunId, resumedBy: "approval" });
    if (opts.untilClaimed) await resumed.claimed;
  } catch (error) {
    // Continued meanwhile by someone else, or cancelled: nothing to do.
    if (!(error instanceof ConflictError)) throw error;
  }
}
