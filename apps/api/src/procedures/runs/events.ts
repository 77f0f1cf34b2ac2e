import { tracked } from "@trpc/server";
import { InvalidInputError } from "@workflows/core";
import { z } from "zod";
import type { Services } from "../../context";
import { mapStreamErrors } from "../../errors";
import { eventIdString, idString } from "../../limits";
import { eventId, followRun, parseEventId } from "../../runs/followRun";
import { viewerProcedure } from "../../trpc";

export const runEventsInput = z.object({ workflowRunId: idString("workflowRunId"), lastEventId: eventIdString.nullish() });
type Input = z.infer<typeof runEventsInput>;

async function* streamEvents(services: Services, input: Input, signal: AbortSignal | undefined) {
  let afterSeq = 0;
  if (input.lastEventId) {
    const last = parseEventId(input.lastEventId);
    if (!last || last.workflowRunId !== input.workflowRunId) {
      throw new InvalidInputError(`lastEventId "${input.lastEventId}" is not an event id of run "${input.workflowRunId}".`);
    }
    afterSeq = last.seq;
  }
  for await (const event of followRun(services.runs, input.workflowRunId, { afterSeq, ...(signal ? { signal } : {}) })) {
    yield tracked(eventId(event), event);
  }
}

/** Replays a run's recorded events, then tails it live; ends after its final event. */
export const runEvents = viewerProcedure
  .input(runEventsInput)
  .subscription(({ ctx, input, signal }) => mapStreamErrors(streamEvents(ctx.services, input, signal)));
