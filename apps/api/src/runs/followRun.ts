import { InvalidInputError, isTerminalEvent, NotFoundError, terminalRunStatuses, type WorkflowEvent } from "@workflows/core";
import type { RunStore } from "../context";

const PAGE = 500;

/**
 * Every event of a run after `afterSeq`, in order, once each: read from the database in pages while behind,
 * then taken live from the run's broadcaster (the events each commit stored, handed on without a read). The
 * follower registers with the broadcaster before its first read, so a batch committed after that read is
 * handed on to it; events it already has are dropped by seq. A follower whose buffer overflowed (too slow) or
 * that finds an event missing reads the database again from where it is, then goes live again.
 * Ends once the run is finished and its last event was given (a terminal event followed by `run.resumed` is
 * not the end: replay goes on), or when `signal` aborts.
 */
export async function* followRun(
  store: RunStore,
  workflowRunId: string,
  opts: { afterSeq?: number; signal?: AbortSignal },
): AsyncGenerator<WorkflowEvent, void, undefined> {
  const { signal } = opts;
  let seq = opts.afterSeq ?? 0;
  const live = store.subscribe(workflowRunId, seq);
  // One listener for the follower's life (not one per wait): an abort closes the subscription, which wakes it.
  const leave = () => live.close();
  signal?.addEventListener("abort", leave, { once: true });
  try {
    const first = await store.getRunRecord(workflowRunId);
    if (!first) throw new NotFoundError("run", workflowRunId);
    // An event is sent only once committed, with the run's lastSeq: an id past it was never sent, and waiting for it would never end.
    if (seq > first.lastSeq) {
      throw new InvalidInputError(`lastEventId "${eventId({ workflowRunId, seq })}" is past run "${workflowRunId}"'s last event (seq ${first.lastSeq}); resume from an id the run sent.`);
    }
    let behind = true;
    while (!signal?.aborted) {
      if (behind) {
        const events = await store.listEvents(workflowRunId, { afterSeq: seq, limit: PAGE });
        for (const event of events) {
          if (event.seq <= seq) continue;
          seq = event.seq;
          yield event;
        }
        if (events.length === PAGE) continue;
        const current = await store.getRunRecord(workflowRunId);
        if (!current || (terminalRunStatuses.has(current.status) && current.lastSeq <= seq)) return;
        if (current.lastSeq > seq) continue;
        behind = false;
        live.caughtUp(current.lastSeq);
      }
      const next = live.take(seq);
      switch (next.type) {
        case "events": {
          for (const event of next.events) {
            seq = event.seq;
            yield event;
          }
          // The run's last stored event ended it (what it was stored with is all there is: nothing was buffered after it).
          if (isTerminalEvent(next.events.at(-1)!) && !live.holdsAfter(seq)) return;
          break;
        }
        case "behind":
          behind = true;
          break;
        case "empty":
          await live.wait();
          break;
        default:
          next satisfies never;
      }
    }
  } finally {
    signal?.removeEventListener("abort", leave);
    live.close();
  }
}

/** Parses `${workflowRunId}:${seq}` as `tracked()` ids are written; null when malformed. */
export function parseEventId(eventId: string): { workflowRunId: string; seq: number } | null {
  const at = eventId.lastIndexOf(":");
  if (at <= 0) return null;
  const digits = eventId.slice(at + 1);
  if (!/^\d{1,15}$/.test(digits)) return null;
  const seq = Number(digits);
  return { workflowRunId: eventId.slice(0, at), seq };
}

export const eventId = (event: Pick<WorkflowEvent, "workflowRunId" | "seq">): string => `${event.workflowRunId}:${event.seq}`;
