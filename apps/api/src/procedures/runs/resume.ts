import { NotFoundError, runStatusSchema } from "@workflows/core";
import { z } from "zod";
import { ShuttingDownError } from "../../errors";
import { idString } from "../../limits";
import { resumeRun } from "../../runs/resumeRun";
import { operatorProcedure } from "../../trpc";

export const resumeRunInput = z.object({
  workflowRunId: idString("workflowRunId"),
  /** Continue on the workflow's current version although the run was recorded with another one. */
  allowNewVersion: z.boolean().optional(),
});
export const resumeRunOutput = z.object({
  workflowRunId: z.string(),
  /** The step the run continues from: the first one that did not succeed. */
  fromStepIndex: z.number().int().nonnegative(),
  status: runStatusSchema,
});

/**
 * Continues a `failed`, `interrupted` or `cancelled` run from its first unfinished step, on the same event
 * log (follow it with `runs.events`). Answers once the run is claimed, which waits for a free slot like a start. CONFLICT for runs that are succeeded, running or pending, or whose
 * workflow changed since (unless `allowNewVersion`); NOT_FOUND for an unknown id.
 */
export const resumeRunProcedure = operatorProcedure
  .input(resumeRunInput)
  .output(resumeRunOutput)
  .mutation(async ({ ctx, input }) => {
    const resumed = await resumeRun(ctx.services, { workflowRunId: input.workflowRunId, resumedBy: "api", by: ctx.caller.name, ...(input.allowNewVersion ? { allowNewVersion: true } : {}) });
    // Answer once the run is ours: its run.resumed stored (a free slot may take a while under load).
    await resumed.claimed.catch(async (error: unknown) => {
      // Lost while waiting: say why when it is not another resume that won.
      if (!ctx.services.activeRuns.accepting) throw new ShuttingDownError();
      if (!(await ctx.services.runs.getRunRecord(input.workflowRunId))) throw new NotFoundError("run", input.workflowRunId);
      throw error;
    });
    const now = await ctx.services.runs.getRunRecord(input.workflowRunId);
    return { workflowRunId: resumed.workflowRunId, fromStepIndex: resumed.fromStepIndex, status: now?.status ?? "running" };
  });
