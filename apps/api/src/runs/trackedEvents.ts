import { tracked, type TrackedEnvelope } from "@trpc/server";
import type { WorkflowEvent } from "@workflows/core";
import { toTRPCError } from "../errors";
import { eventId } from "./followRun";

/**
 * A run's events as the run subscriptions send them: each `tracked` with its event id (a reconnect resumes
 * after it), errors mapped to tRPC errors, from the iterator `open` resolves to (validation and a run's
 * start happen there, their errors mapped the same). A plain iterator rather than two more async generator
 * layers over `followRun`: every event of every follower passes here, and each layer cost a few promises.
 */
export function trackedEvents(
  open: () => AsyncIterator<WorkflowEvent, void> | Promise<AsyncIterator<WorkflowEvent, void>>,
): AsyncIterableIterator<TrackedEnvelope<WorkflowEvent>> {
  let source: AsyncIterator<WorkflowEvent, void> | undefined;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<TrackedEnvelope<WorkflowEvent>>> {
      try {
        source ??= await open();
        const result = await source.next();
        return result.done ? { done: true, value: undefined } : { done: false, value: tracked(eventId(result.value), result.value) };
      } catch (error) {
        throw toTRPCError(error);
      }
    },
    async return(): Promise<IteratorResult<TrackedEnvelope<WorkflowEvent>>> {
      await source?.return?.();
      return { done: true, value: undefined };
    },
  };
}
