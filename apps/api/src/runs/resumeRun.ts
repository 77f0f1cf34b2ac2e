import type { ResumedRun } from "@workflows/core";
import { ShuttingDownError } from "../errors";
import type { Services } from "../context";

export type ResumeRunInput = {
  workflowRunId: string;
  allowNewVersion?: boolean;
  resumedBy: "api" | "start-up" | "approval";
  /** Who asked, for `resumedBy: "api"` (an API key's name or `local`). */
  by?: string;
  orphaned?: boolean;
  /** A queued run's creator's span. */
  parentSpanId?: string | null;
};

/**
 * Resumes a run in the background and registers it for cancel and shutdown. Resolves once the runner
 * accepted it (checks passed); the run then waits for a slot and claims the run with `run.resumed`.
 */
export async function resumeRun(services: Services, req: ResumeRunInput): Promise<ResumedRun> {
  if (!services.activeRuns.accepting) throw new ShuttingDownError();
  const controller = new AbortController();
  const resumed = await services.runner.resume(req.workflowRunId, {
    resumedBy: req.resumedBy,
    ...(req.by !== undefined ? { by: req.by } : {}),
    signal: controller.signal,
    ...(req.allowNewVersion ? { allowNewVersion: true } : {}),
    ...(req.orphaned ? { orphaned: true } : {}),
    ...(req.parentSpanId ? { parentSpanId: req.parentSpanId } : {}),
  });
  services.activeRuns.add(resumed.workflowRunId, controller, resumed.done);
  resumed.done.catch((error: unknown) => services.logger.warn({ err: error, workflowRunId: resumed.workflowRunId }, "resumed run ended with an error"));
  services.logger.info({ workflowRunId: resumed.workflowRunId, fromStepIndex: resumed.fromStepIndex, resumedBy: req.resumedBy, by: req.by }, "run resumed");
  return resumed;
}
