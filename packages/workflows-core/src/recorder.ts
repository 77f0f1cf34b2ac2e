import type { WorkflowEvent } from "./events";
import type { NewRun, RunRecord, SpanRecord } from "./records";

export type CreateRunResult = { status: "created"; run: RunRecord } | { status: "existing"; run: RunRecord };

/**
 * Where the runner reports every transition. Implementations: `InMemoryRunRecorder` (core)
 * and `PrismaRunRecorder` (@workflows/db). Row changes are derived from events with `projectEvent`.
 */
export interface RunRecorder {
  /** Creates the run (status `pending`); with a known idempotency key, returns the existing run instead. */
  createRun(run: NewRun): Promise<CreateRunResult>;
  /** Stores the event and its projection. Resolves only once both are durable. */
  append(event: WorkflowEvent): Promise<void>;
  /** Stores a finished trace span. */
  recordSpan(span: SpanRecord): Promise<void>;
}
