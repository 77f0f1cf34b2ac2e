import { NotFoundError, pausedRunStatuses, terminalRunStatuses } from "@workflows/core";
import type { RunStore } from "../context";
import { followRun } from "./followRun";

/**
 * Resolves once the run is finished in the database (it may be executing in another request); with
 * `orPaused`, also once it waits for approvals (`workflows.run` answers then: a person decides later).
 */
export async function waitForRunEnd(store: RunStore, workflowRunId: string, signal?: AbortSignal, opts: { orPaused?: boolean } = {}): Promise<void> {
  const current = await store.getRunRecord(workflowRunId);
  if (!current) throw new NotFoundError("run", workflowRunId);
  if (terminalRunStatuses.has(current.status) || (opts.orPaused === true && pausedRunStatuses.has(current.status))) return;
  for await (const event of followRun(store, workflowRunId, { afterSeq: current.lastSeq, ...(signal ? { signal } : {}) })) {
    if (opts.orPaused === true && event.type === "run.awaiting_approval") return;
  }
}
