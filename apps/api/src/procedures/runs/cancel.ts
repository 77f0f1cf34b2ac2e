import { ConflictError, NotFoundError, pausedRunStatuses, RunCancelledError, runStatusSchema, terminalRunStatuses } from "@workflows/core";
import { z } from "zod";
import { idString } from "../../limits";
import { waitForRunEnd } from "../../runs/waitForRun";
import { operatorProcedure } from "../../trpc";

export const cancelRunInput = z.object({ workflowRunId: idString("workflowRunId") });
export const cancelRunOutput = z.object({ workflowRunId: z.string(), status: runStatusSchema });

/** How long a cancel waits for another instance to confirm it aborted the run. */
const REMOTE_CANCEL_TIMEOUT_MS = 30_000;

/**
 * Aborts a running run (its model call included) and answers once it is recorded as finished; a run waiting
 * for approvals is cancelled at once (its pending approvals end `cancelled`). With several
 * instances, a run executing elsewhere is cancelled by the instance executing it (asked through the database).
 * A sub-workflow run is cancelled through its parent (CONFLICT here). A finished run's resume still waiting
 * here for a slot is withdrawn (the run stays as recorded).
 */
export const cancelRun = operatorProcedure
  .input(cancelRunInput)
  .output(cancelRunOutput)
  .mutation(async ({ ctx, input }) => {
    const { runs, activeRuns } = ctx.services;
    const id = input.workflowRunId;
    const recorded = await runs.getRunRecord(id);
    if (!recorded) throw new NotFoundError("run", id);
    if (terminalRunStatuses.has(recorded.status)) {
      // A resume of it waiting here for a slot is withdrawn: the run stays as it was recorded.
      if (recorded.status !== "succeeded" && (await activeRuns.abort(id, new RunCancelledError(ctx.caller.name)))) {
        return { workflowRunId: id, status: (await runs.getRunRecord(id))?.status ?? recorded.status };
      }
      throw new ConflictError(`Run "${id}" is already ${recorded.status}.`);
    }
    // Its parent executes it, in the parent's process: cancelling the parent cancels it.
    if (recorded.parentRunId !== null) throw new ConflictError(`Run "${id}" is a sub-workflow of run "${recorded.parentRunId}" (step ${recorded.parentStepIndex ?? "?"}); cancel the parent run, which cancels it.`);
    // Nothing executes a run waiting for approvals: it is cancelled where it is recorded.
    if (pausedRunStatuses.has(recorded.status) && (await ctx.services.runner.cancelPaused(id, new RunCancelledError(ctx.caller.name).message, ctx.caller.name))) {
      return { workflowRunId: id, status: "cancelled" as const };
    }
    if (!(await activeRuns.abort(id, new RunCancelledError(ctx.caller.name)))) {
      const now = (await runs.getRunRecord(id))?.status ?? recorded.status;
      if (terminalRunStatuses.has(now)) throw new ConflictError(`Run "${id}" is already ${now}.`);
      if (!ctx.services.requestCancel) throw new ConflictError(`Run "${id}" is ${now} but not executing in this server.`);
      // Still waiting in the queue: nobody executes it, so it is cancelled here.
      if (await ctx.services.cancelQueued?.(id, ctx.caller.name)) return { workflowRunId: id, status: "cancelled" as const };
      await ctx.services.requestCancel(id, ctx.caller.name);
      // Ends at the run's end, or quietly at the time limit.
      await waitForRunEnd(runs, id, AbortSignal.timeout(REMOTE_CANCEL_TIMEOUT_MS));
      const after = await runs.getRunRecord(id);
      if (!after || !terminalRunStatuses.has(after.status)) {
        throw new ConflictError(`Run "${id}" is ${after?.status ?? now}: no instance confirmed the cancel within ${REMOTE_CANCEL_TIMEOUT_MS / 1000} s (is the instance executing it alive?).`);
      }
      return { workflowRunId: id, status: after.status };
    }
    await waitForRunEnd(runs, id);
    const after = await runs.getRunRecord(id);
    return { workflowRunId: id, status: after?.status ?? "cancelled" };
  });
