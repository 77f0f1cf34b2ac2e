import { approvalRecordSchema, NotFoundError, spanRecordSchema, stepRecordSchema } from "@workflows/core";
import { z } from "zod";
import { idString } from "../../limits";
import { runViewSchema, toRunView } from "../../runs/runView";
import { viewerProcedure } from "../../trpc";

export const getRunInput = z.object({ workflowRunId: idString("workflowRunId") });
export const getRunOutput = z.object({
  run: runViewSchema,
  steps: z.array(stepRecordSchema),
  spans: z.array(spanRecordSchema),
  /** Tool calls the run waited (or waits) for, oldest first; `status: "pending"` ones are decided with runs.approve. */
  approvals: z.array(approvalRecordSchema),
});

/** A run, its steps, the trace spans recorded for it and its approvals. */
export const getRun = viewerProcedure
  .input(getRunInput)
  .output(getRunOutput)
  .query(async ({ ctx, input }) => {
    const { runs } = ctx.services;
    const recorded = await runs.getRun(input.workflowRunId);
    if (!recorded) throw new NotFoundError("run", input.workflowRunId);
    const [spans, approvals] = await Promise.all([runs.listSpans(input.workflowRunId), ctx.services.runner.listApprovals(input.workflowRunId)]);
    return { run: toRunView(recorded.run), steps: recorded.steps, spans, approvals };
  });
