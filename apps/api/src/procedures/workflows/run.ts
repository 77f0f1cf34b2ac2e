import { NotFoundError } from "@workflows/core";
import { operatorProcedure } from "../../trpc";
import { runResultSchema, toRunResult } from "../../runs/runResult";
import { startRun } from "../../runs/startRun";
import { waitForRunEnd } from "../../runs/waitForRun";
import { startRunInput } from "./schemas";

export const runWorkflowInput = startRunInput;
export const runWorkflowOutput = runResultSchema;

/**
 * Runs a workflow to the end, or until it waits for approvals (status `awaiting_approval`: decide with
 * `runs.approve`, follow with `runs.events`). A repeated idempotency key answers with the first run, once it has finished.
 */
export const runWorkflow = operatorProcedure
  .input(runWorkflowInput)
  .output(runWorkflowOutput)
  .mutation(async ({ ctx, input }) => {
    const { runs } = ctx.services;
    const started = await startRun(ctx.services, input, { createdBy: ctx.caller.name, traceparent: ctx.traceparent });
    // The database is the truth either way: a crashed `done` still leaves a recorded outcome.
    await started.done?.catch(() => undefined);
    // An existing run (same idempotency key) may still be executing in another request: wait for its end.
    await waitForRunEnd(runs, started.workflowRunId, undefined, { orPaused: true });
    const recorded = await runs.getRun(started.workflowRunId);
    if (!recorded) throw new NotFoundError("run", started.workflowRunId);
    return toRunResult(recorded);
  });
