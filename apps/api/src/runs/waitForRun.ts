import { NotFoundError, terminalRunStatuses } from "@workflows/core";
import type { RunStore } from "../context";
import { followRun } from "./followRun";

/** Resolves once the run is finished in the database (it may be executing in another request). */
export async function waitForRunEnd(store: RunStore, workflowRunId: string, signal?: AbortSignal): Promise<void> {
  const current = await store.getRun(workflowRunId);
  if (!current) throw new NotFoundError("run", workflowRunId);
  if (terminalRunStatuses.has(current.run.status)) return;
  for await (const _event of followRun(store, workflowRunId, { afterSeq: current.run.lastSeq, ...(signal ? { signal } : {}) })) {
    // Only the end matters here.
  }
}
