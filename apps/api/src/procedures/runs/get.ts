import { NotFoundError, spanRecordSchema, stepRecordSchema } from "@workflows/core";
import { z } from "zod";
import { idString } from "../../limits";
import { runViewSchema, toRunView } from "../../runs/runView";
import { viewerProcedure } from "../../trpc";

export const getRunInput = z.object({ workflowRunId: idString("workflowRunId") });
export const getRunOutput = z.object({ run: runViewSchema, steps: z.array(stepRecordSchema), spans: z.array(spanRecordSchema) });

/** A run, its steps and the trace spans recorded for it. */
export const getRun = viewerProcedure
  .input(getRunInput)
  .output(getRunOutput)
  .query(async ({ ctx, input }) => {
    const { runs } = ctx.services;
    const recorded = await runs.getRun(input.workflowRunId);
    if (!recorded) throw new NotFoundError("run", input.workflowRunId);
    const spans = await runs.listSpans(input.workflowRunId);
    return { run: toRunView(recorded.run), steps: recorded.steps, spans };
  });
