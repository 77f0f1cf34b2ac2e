import { runStatusSchema } from "@workflows/core";
import { z } from "zod";
import { idString } from "../../limits";
import { continueAfterApproval } from "../../runs/continueRun";
import { operatorProcedure } from "../../trpc";

export const approveRunInput = z.object({
  workflowRunId: idString("workflowRunId"),
  approvalId: idString("approvalId"),
  /** true runs the tool; false hands the rejection (and `reason`) to the agent instead. */
  approved: z.boolean({ error: "approved must be true or false" }),
  reason: z.string().max(2_000, "reason must be at most 2000 characters").nullish(),
});
export const approveRunOutput = z.object({
  workflowRunId: z.string(),
  approvalId: z.string(),
  approved: z.boolean(),
  decidedBy: z.string(),
  /** Whether the run continues now: every approval it waited for is decided, and it was not cancelled meanwhile. */
  resumed: z.boolean(),
  status: runStatusSchema,
});

/**
 * Decides on a tool call a run waits for. Once every approval of the pause is decided the run continues from
 * its saved state on the same event log (follow it with `runs.events`). NOT_FOUND for an unknown run or
 * approval; CONFLICT when the approval was decided already or the run is not awaiting approval.
 */
export const approveRun = operatorProcedure
  .input(approveRunInput)
  .output(approveRunOutput)
  .mutation(async ({ ctx, input }) => {
    const { services } = ctx;
    const decided = await services.runner.decide(input.workflowRunId, {
      approvalId: input.approvalId,
      approved: input.approved,
      reason: input.reason ?? null,
      decidedBy: ctx.caller.name,
    });
    const continued = decided.complete && (await continueAfterApproval(services, input.workflowRunId, { untilClaimed: true }));
    const now = await services.runs.getRunRecord(input.workflowRunId);
    // A continuation that lost to another (the approval sweep's) still leaves the run going; one that lost to a cancel does not.
    const resumed = continued || (decided.complete && (now?.status === "running" || now?.status === "pending"));
    return {
      workflowRunId: input.workflowRunId,
      approvalId: input.approvalId,
      approved: input.approved,
      decidedBy: ctx.caller.name,
      resumed,
      status: now?.status ?? "awaiting_approval",
    };
  });
