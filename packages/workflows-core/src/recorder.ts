import type { ApprovalDecision, ApprovalRecord, NewApproval, PausedStep } from "./approvals";
import type { WorkflowEvent } from "./events";
import type { NewRun, RunRecord, SpanRecord, StepRecord } from "./records";

export type CreateRunResult = { status: "created"; run: RunRecord } | { status: "existing"; run: RunRecord };

/**
 * Where the runner reports every transition. Implementations: `InMemoryRunRecorder` (core)
 * and `PrismaRunRecorder` (@workflows/db). Row changes are derived from events with `projectEvent`.
 */
export interface RunRecorder {
  /**
   * Creates the run (status `pending`); with a known idempotency key, returns the existing run instead,
   * or rejects with `ConflictError` when that run was made for another workflow or input (fingerprint).
   */
  createRun(run: NewRun): Promise<CreateRunResult>;
  /** The run and its steps in index order, as stored (what a resume starts from); null when unknown. */
  loadRun(workflowRunId: string): Promise<{ run: RunRecord; steps: StepRecord[] } | null>;
  /**
   * Stores the event and its projection. Resolves only once both are durable. An event whose seq does not
   * follow the stored lastSeq is rejected with `ConflictError` (another writer got there first). A
   * `run.started` or `run.resumed` makes this recorder's process the run's owner.
   */
  append(event: WorkflowEvent): Promise<void>;
  /** Stores a finished trace span. */
  recordSpan(span: SpanRecord): Promise<void>;
  /**
   * Stores the approvals a step waits for, with its SDK run state, before their events; approvals of the
   * same step still pending from an earlier pause (a step run again after a crash) become `cancelled`.
   */
  savePause(approvals: readonly NewApproval[]): Promise<void>;
  /** Every approval of the run, oldest first, without the saved state. */
  listApprovals(workflowRunId: string): Promise<ApprovalRecord[]>;
  /** The latest pause of a step: its saved state and its approvals; null when it never paused. */
  loadPausedStep(workflowRunId: string, stepIndex: number): Promise<PausedStep | null>;
  /** Records a decision on a pending approval; false when it was no longer pending (someone decided first). */
  decideApproval(workflowRunId: string, approvalId: string, decision: ApprovalDecision): Promise<boolean>;
}
