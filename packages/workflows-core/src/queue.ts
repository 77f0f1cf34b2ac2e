/**
 * Hands recorded runs to whichever server executes them. With one server on an embedded database there is
 * no queue: the server that creates a run executes it (under `Admission`). With several servers on one
 * database, a run created anywhere is taken by any server with a free slot; the implementation (a job queue
 * in that database) lives with the storage, not here.
 */
export interface RunQueue {
  /** Queues a run created with `WorkflowRunner.create`, with the caller's span its trace continues (if any). */
  enqueue(workflowRunId: string, parentSpanId?: string | null): Promise<void>;
  /**
   * Starts taking runs: `execute` is called for each run this server takes, at most `concurrency` at once, and
   * the slot is held until it settles. Resolves once the server is taking runs.
   */
  work(concurrency: number, execute: (workflowRunId: string, parentSpanId: string | null) => Promise<void>): Promise<void>;
  /** Stops taking runs and waits for `execute` calls in progress, at most `timeoutMs`. */
  stop(timeoutMs: number): Promise<void>;
}
