import { InvalidInputError } from "@workflows/core";
import type { z } from "zod";
import type { CallerContext } from "../../context";
import { eventIdString } from "../../limits";
import { followRun, parseEventId } from "../../runs/followRun";
import { startRun } from "../../runs/startRun";
import { trackedEvents } from "../../runs/trackedEvents";
import { operatorProcedure } from "../../trpc";
import { startRunInput } from "./schemas";

export const runWorkflowStreamInput = startRunInput.extend({
  /** Set by the tRPC client when it reconnects: `${workflowRunId}:${seq}` of the last event it got. */
  lastEventId: eventIdString.nullish(),
});
type Input = z.infer<typeof runWorkflowStreamInput>;

/** The follower of the run `input` starts, or of the run `lastEventId` names, after that event. */
async function follow(ctx: CallerContext, input: Input, signal: AbortSignal | undefined) {
  const { services } = ctx;
  let workflowRunId: string;
  let afterSeq = 0;
  if (input.lastEventId) {
    // A reconnect: attach to the run it was following, never start a second one.
    const last = parseEventId(input.lastEventId);
    if (!last) throw new InvalidInputError(`lastEventId "${input.lastEventId}" is not a "<workflowRunId>:<seq>" event id.`);
    workflowRunId = last.workflowRunId;
    afterSeq = last.seq;
  } else {
    workflowRunId = (await startRun(services, input, { createdBy: ctx.caller.name, traceparent: ctx.traceparent })).workflowRunId;
  }
  return followRun(services.runs, workflowRunId, { afterSeq, ...(signal ? { signal } : {}) });
}

/**
 * Starts a run and streams its events from the database. Disconnecting does not cancel the run;
 * reconnecting with `lastEventId` resumes the same run after that event.
 */
export const runWorkflowStream = operatorProcedure
  .input(runWorkflowStreamInput)
  .subscription(({ ctx, input, signal }) => trackedEvents(() => follow(ctx, input, signal)));
