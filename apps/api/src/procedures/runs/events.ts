import { InvalidInputError } from "@workflows/core";
import { z } from "zod";
import type { Services } from "../../context";
import { eventIdString, idString } from "../../limits";
import { followRun, parseEventId } from "../../runs/followRun";
import { trackedEvents } from "../../runs/trackedEvents";
import { viewerProcedure } from "../../trpc";

export const runEventsInput = z.object({ workflowRunId: idString("workflowRunId"), lastEventId: eventIdString.nullish() });
type Input = z.infer<typeof runEventsInput>;

/** The follower of `input`'s run, after the event `lastEventId` names. */
function follow(services: Services, input: Input, signal: AbortSignal | undefined) {
  let afterSeq = 0;
  if (input.lastEventId) {
    const last = parseEventId(input.lastEventId);
    if (!last || last.workflowRunId !== input.workflowRunId) {
      throw new InvalidInputError(`lastEventId "${input.lastEventId}" is not an event id of run "${input.workflowRunId}".`);
    }
    afterSeq = last.seq;
  }
  return followRun(services.runs, input.workflowRunId, { afterSeq, ...(signal ? { signal } : {}) });
}

/** Replays a run's recorded events, then tails it live; ends after its final event. */
export const runEvents = viewerProcedure
  .input(runEventsInput)
  .subscription(({ ctx, input, signal }) => trackedEvents(() => follow(ctx.services, input, signal)));
