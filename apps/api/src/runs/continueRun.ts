import { ConflictError } from "@workflows/core";
import type { Services } from "../context";
import { resumeRun } from "./resumeRun";

/**
 * Continues a run whose approvals are all decided. With several instances it goes through the queue like
 * any run (whichever instance has a slot takes it); alone, this server resumes it. Either way the run
 * claims itself with `run.resumed` on its own seq, so a second continuation (a sweep, another instance) loses
 * and leaves it be. `untilClaimed` (the approve procedure, which answers with the run's status): alone, resolve
 * once the run is this server's again (its `run.resumed` stored, after a slot was free), as `runs.resume` does.
 * Resolves to false when the run was not continued: cancelled meanwhile, or continued by another resume first
 * (with `untilClaimed`; without it, a continuation that later loses its claim still counts).
 */
export async function continueAfterApproval(services: Services, workflowRunId: string, opts: { untilClaimed?: boolean } = {}): Promise<boolean> {
  if (services.queue) {
    await services.queue.enqueue(workflowRunId, null);
    services.logger.info({ workflowRunId }, "run queued to continue after its approvals");
    return true;
  }
  if (services.activeRuns.has(workflowRunId)) return true;
  try {
    const resumed = await resumeRun(services, { workflowRunId, resumedBy: "approval" });
    if (opts.untilClaimed) await resumed.claimed;
    return true;
  } catch (error) {
    // Continued meanwhile by someone else, or cancelled: nothing to do.
    if (!(error instanceof ConflictError)) throw error;
    return false;
  }
}
