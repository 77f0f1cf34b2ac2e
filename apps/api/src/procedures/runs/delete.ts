import { ConflictError, NotFoundError, terminalRunStatuses } from "@workflows/core";
import { z } from "zod";
import { idString } from "../../limits";
import { adminProcedure } from "../../trpc";

export const deleteRunInput = z.object({ workflowRunId: idString("workflowRunId") });
export const deletedCountsSchema = z.object({ runs: z.number().int(), steps: z.number().int(), events: z.number().int(), spans: z.number().int() });
export const deleteRunOutput = z.object({ workflowRunId: z.string(), deleted: deletedCountsSchema });

/**
 * Deletes a finished run with its steps, events and trace spans, and its sub-workflow runs with theirs, for
 * good. Pending, running or waiting runs are refused, and so is a sub-workflow run (it goes with its parent).
 */
export const deleteRunProcedure = adminProcedure
  .input(deleteRunInput)
  .output(deleteRunOutput)
  .mutation(async ({ ctx, input }) => {
    const id = input.workflowRunId;
    // A resume of a cancelled or failed run waiting here for a slot: the run is finished as stored, but not for long.
    if (ctx.services.activeRuns.has(id)) {
      const recorded = await ctx.services.runs.getRunRecord(id);
      if (recorded && terminalRunStatuses.has(recorded.status)) throw new ConflictError(`Run "${id}" is being resumed on this server: cancel it first.`);
    }
    const result = await ctx.services.deleteRun(id);
    switch (result.status) {
      case "deleted":
        ctx.services.logger.info({ workflowRunId: id, deleted: result.deleted, by: ctx.caller.name }, "run deleted");
        return { workflowRunId: id, deleted: result.deleted };
      case "not_found":
        throw new NotFoundError("run", id);
      case "not_finished":
        throw new ConflictError(`Run "${id}" is ${result.runStatus}: only finished runs can be deleted (cancel it first).`);
      case "sub_workflow":
        throw new ConflictError(`Run "${id}" is a sub-workflow of run "${result.parentRunId}": delete the parent run, which deletes it.`);
      default:
        return result satisfies never;
    }
  });
