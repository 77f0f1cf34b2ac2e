import { ConflictError, NotFoundError, RunCancelledError, runStatusSchema, terminalRunStatuses } from "@workflows/core";
import { z } from "zod";
import { idString } from "../../limits";
import { waitForRunEnd } from "../../runs/waitForRun";
import { operatorProcedure } from "../../trpc";

export const cancelRunInput = z.object({ workflowRunId: idString("workflowRunId") });
export const cancelRunOutput = z.object({ workflowRunId: z.string(), status: runStatusSchema });

/** Aborts a running run (its model call included) and answers once it is recorded as finished. */
export const cancelRun = operatorProcedure
  .input(cancelRunInput)
  .output(cancelRunOutput)
  .mutation(async ({ ctx, input }) => {
    const { runs, activeRuns } = ctx.services;
    const id = input.workflowRunId;
    const recorded = await runs.getRun(id);
    if (!recorded) throw new NotFoundError("run", id);
    if (terminalRunStatuses.has(recorded.run.status)) throw new ConflictError(`Run "${id}" is already ${recorded.run.status}.`);
    if (!(await activeRuns.abort(id, new RunCancelledError(ctx.caller.name)))) {
      const now = (await runs.getRun(id))?.run.status ?? recorded.run.status;
      if (terminalRunStatuses.has(now)) throw new ConflictError(`Run "${id}" is already ${now}.`);
      throw new ConflictError(`Run "${id}" is ${now} but not executing in this server.`);
    }
    await waitForRunEnd(runs, id);
    const after = await runs.getRun(id);
    return { workflowRunId: id, status: after?.run.status ?? "cancelled" };
  });
