import { NotFoundError, terminalRunStatuses, type WorkflowEvent } from "@workflows/core";
import type { RunStore } from "../context";

const PAGE = 500;
/** Safety net: re-read the database this often even without a notification (e.g. another process writes). */
const POLL_MS = 1_000;

/**
 * Every event of a run after `afterSeq`, in order, read from the database: a backfill, then a live
 * tail woken by the recorder's `onStored` notification. Ends once the run is finished and its last
 * event was given (a terminal event followed by `run.resumed` is not the end: replay goes on), or when
 * `signal` aborts.
 */
export async function* followRun(
  store: RunStore,
  workflowRunId: string,
  opts: { afterSeq?: number; signal?: AbortSignal },
): AsyncGenerator<WorkflowEvent, void, undefined> {
  const { signal } = opts;
  let seq = opts.afterSeq ?? 0;
  // Subscribe before the first read, so nothing stored between a read and the wait is missed.
  let stored = false;
  let wake: (() => void) | undefined;
  const unsubscribe = store.onStored((id) => {
    if (id !== workflowRunId) return;
    stored = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);
  try {
    const first = await store.getRun(workflowRunId);
    if (!first) throw new NotFoundError("run", workflowRunId);
    while (!signal?.aborted) {
      stored = false;
      const events = await store.listEvents(workflowRunId, { afterSeq: seq, limit: PAGE });
      for (const event of events) {
        if (event.seq <= seq) continue;
        seq = event.seq;
        yield event;
      }
      if (events.length === PAGE) continue;
      if (stored) continue;
      const current = await store.getRun(workflowRunId);
      if (!current || (terminalRunStatuses.has(current.run.status) && current.run.lastSeq <= seq)) return;
      if (current.run.lastSeq > seq || stored) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, POLL_MS);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
        if (stored || signal?.aborted) done();
      });
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener("abort", onAbort);
  }
}

/** Parses `${workflowRunId}:${seq}` as `tracked()` ids are written; null when malformed. */
export function parseEventId(eventId: string): { workflowRunId: string; seq: number } | null {
  const at = eventId.lastIndexOf(":");
  if (at <= 0) return null;
  const seq = Number(eventId.slice(at + 1));
  if (!Number.isInteger(seq) || seq < 0) return null;
  return { workflowRunId: eventId.slice(0, at), seq };
}

export const eventId = (event: Pick<WorkflowEvent, "workflowRunId" | "seq">): string => `${event.workflowRunId}:${event.seq}`;
