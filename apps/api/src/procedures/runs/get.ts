import { approvalRecordSchema, NotFoundError, runStatusSchema, spanRecordSchema, stepRecordSchema, usageSchema, type RunRecord } from "@workflows/core";
import { z } from "zod";
import { idString } from "../../limits";
import { runViewSchema, toRunView } from "../../runs/runView";
import { viewerProcedure } from "../../trpc";

export const getRunInput = z.object({ workflowRunId: idString("workflowRunId") });

/** A run a sub-workflow step of this run started: enough to list it; `runs.get` on its id shows all of it. */
export const childRunSchema = z.object({
  workflowRunId: z.string(),
  workflowKey: z.string(),
  status: runStatusSchema,
  /** The parent's step that started it (a loop pass has its own step index). */
  stepIndex: z.number().int().nonnegative(),
  finalOutput: z.string().nullable(),
  usage: usageSchema,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});

const toChildRun = (run: RunRecord): z.infer<typeof childRunSchema> => ({
  workflowRunId: run.id,
  workflowKey: run.workflowKey,
  status: run.status,
  stepIndex: run.parentStepIndex ?? 0,
  finalOutput: run.finalOutput,
  usage: run.usage,
  createdAt: run.createdAt,
  startedAt: run.startedAt,
  endedAt: run.endedAt,
});
export const getRunOutput = z.object({
  run: runViewSchema,
  steps: z.array(stepRecordSchema),
  spans: z.array(spanRecordSchema),
  /** Tool calls the run waited (or waits) for, oldest first; `status: "pending"` ones are decided with runs.approve. */
  approvals: z.array(approvalRecordSchema),
  /** The runs its sub-workflow steps started, by step index (a child's own `run.parentRunId` names this run). */
  children: z.array(childRunSchema),
});

/** A run, its steps, the trace spans recorded for it, its approvals and its sub-workflow runs. */
export const getRun = viewerProcedure
  .input(getRunInput)
  .output(getRunOutput)
  .query(async ({ ctx, input }) => {
    const { runs } = ctx.services;
    const recorded = await runs.getRun(input.workflowRunId);
    if (!recorded) throw new NotFoundError("run", input.workflowRunId);
    const [spans, approvals, children] = await Promise.all([runs.listSpans(input.workflowRunId), ctx.services.runner.listApprovals(input.workflowRunId), runs.listChildren(input.workflowRunId)]);
    return { run: toRunView(recorded.run), steps: recorded.steps, spans, approvals, children: children.map(toChildRun) };
  });
