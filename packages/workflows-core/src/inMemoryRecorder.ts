import type { ApprovalDecision, ApprovalRecord, NewApproval, PausedStep } from "./approvals";
import { ConflictError, NotFoundError } from "./errors";
import type { WorkflowEvent } from "./events";
import { applyToSteps, projectEvent } from "./projection";
import type { NewRun, RunRecord, SpanRecord, StepRecord } from "./records";
import type { CreateRunResult, RunRecorder } from "./recorder";
import { zeroUsage } from "./usage";

type StoredApproval = ApprovalRecord & { state: string };
type StoredRun = { run: RunRecord; steps: StepRecord[]; events: WorkflowEvent[]; spans: SpanRecord[]; approvals: StoredApproval[]; fingerprint: string | null };

/** A recorder that keeps everything in memory: for tests and for embedding without a database. */
export class InMemoryRunRecorder implements RunRecorder {
  readonly #runs = new Map<string, StoredRun>();
  readonly #byIdempotencyKey = new Map<string, string>();

  createRun(input: NewRun): Promise<CreateRunResult> {
    const existingId = input.idempotencyKey ? this.#byIdempotencyKey.get(input.idempotencyKey) : undefined;
    if (existingId) {
      const existing = this.#get(existingId);
      if (existing.fingerprint !== null && input.fingerprint && existing.fingerprint !== input.fingerprint) return Promise.reject(idempotencyMismatch(existing.run));
      return Promise.resolve({ status: "existing", run: structuredClone(existing.run) });
    }
    if (this.#runs.has(input.id)) return Promise.reject(new ConflictError(`Run "${input.id}" already exists.`));
    const run: RunRecord = {
      id: input.id,
      workflowKey: input.workflowKey,
      versionHash: input.versionHash,
      status: "pending",
      input: input.input,
      finalOutput: null,
      structuredOutput: null,
      error: null,
      conversationId: input.conversationId ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      createdBy: input.createdBy ?? null,
      usage: zeroUsage(),
      createdAt: new Date().toISOString(),
      startedAt: null,
      endedAt: null,
      lastSeq: 0,
      traceId: input.traceId ?? null,
      parentRunId: input.parentRunId ?? null,
      parentStepIndex: input.parentStepIndex ?? null,
    };
    this.#runs.set(run.id, { run, steps: [], events: [], spans: [], approvals: [], fingerprint: input.fingerprint ?? null });
    if (input.idempotencyKey) this.#byIdempotencyKey.set(input.idempotencyKey, run.id);
    return Promise.resolve({ status: "created", run: { ...run, usage: { ...run.usage } } });
  }

  append(event: WorkflowEvent): Promise<void> {
    const stored = this.#runs.get(event.workflowRunId);
    if (!stored) return Promise.reject(new NotFoundError("run", event.workflowRunId));
    if (event.seq !== stored.run.lastSeq + 1) {
      return Promise.reject(new ConflictError(`Event seq ${event.seq} does not follow ${stored.run.lastSeq} in run "${event.workflowRunId}".`));
    }
    const projection = projectEvent(event);
    // Events are immutable once emitted, so they and their projection are kept as they are; `get` hands out copies.
    stored.events.push(event);
    Object.assign(stored.run, projection.run);
    applyToSteps(stored.steps, projection);
    return Promise.resolve();
  }

  loadRun(workflowRunId: string): Promise<{ run: RunRecord; steps: StepRecord[] } | null> {
    const stored = this.#runs.get(workflowRunId);
    return Promise.resolve(stored ? structuredClone({ run: stored.run, steps: stored.steps }) : null);
  }

  recordSpan(span: SpanRecord): Promise<void> {
    const stored = this.#runs.get(span.workflowRunId);
    if (!stored) return Promise.reject(new NotFoundError("run", span.workflowRunId));
    stored.spans.push(span);
    return Promise.resolve();
  }

  savePause(approvals: readonly NewApproval[]): Promise<void> {
    for (const approval of approvals) {
      const stored = this.#runs.get(approval.workflowRunId);
      if (!stored) return Promise.reject(new NotFoundError("run", approval.workflowRunId));
      for (const old of stored.approvals) if (old.stepIndex === approval.stepIndex && old.status === "pending") Object.assign(old, { status: "cancelled", decidedBy: "(superseded)", decidedAt: approval.requestedAt });
    }
    for (const approval of approvals) {
      this.#get(approval.workflowRunId).approvals.push({ ...approval, status: "pending", reason: null, decidedBy: null, decidedAt: null });
    }
    return Promise.resolve();
  }

  listApprovals(workflowRunId: string): Promise<ApprovalRecord[]> {
    const stored = this.#runs.get(workflowRunId);
    return Promise.resolve((stored?.approvals ?? []).map(({ state: _state, ...record }) => structuredClone(record)));
  }

  loadPausedStep(workflowRunId: string, stepIndex: number): Promise<PausedStep | null> {
    const rows = this.#runs.get(workflowRunId)?.approvals.filter((a) => a.stepIndex === stepIndex) ?? [];
    const last = rows.at(-1);
    if (!last) return Promise.resolve(null);
    const pause = rows.filter((a) => a.state === last.state).map(({ state: _state, ...record }) => structuredClone(record));
    return Promise.resolve({ state: last.state, approvals: pause });
  }

  decideApproval(workflowRunId: string, approvalId: string, decision: ApprovalDecision): Promise<boolean> {
    const found = this.#runs.get(workflowRunId)?.approvals.find((a) => a.approvalId === approvalId);
    if (!found || found.status !== "pending") return Promise.resolve(false);
    Object.assign(found, decision);
    return Promise.resolve(true);
  }

  /** The run, its steps, events and spans, as copies. */
  get(workflowRunId: string): StoredRun {
    return structuredClone(this.#get(workflowRunId));
  }

  /** Drops a run and everything stored with it (its sub-workflow runs stay); false when there is no such run. Memory is all an embedder has: drop what it no longer reads. */
  forget(workflowRunId: string): boolean {
    const stored = this.#runs.get(workflowRunId);
    if (!stored) return false;
    if (stored.run.idempotencyKey) this.#byIdempotencyKey.delete(stored.run.idempotencyKey);
    return this.#runs.delete(workflowRunId);
  }

  runIds(): string[] {
    return [...this.#runs.keys()];
  }

  /** The runs a run's sub-workflow steps started, in the order they were created. */
  childrenOf(workflowRunId: string): RunRecord[] {
    return [...this.#runs.values()].filter((s) => s.run.parentRunId === workflowRunId).map((s) => structuredClone(s.run));
  }

  #get(id: string): StoredRun {
    const stored = this.#runs.get(id);
    if (!stored) throw new NotFoundError("run", id);
    return stored;
  }
}

/** The answer to an idempotency key reused for another workflow or input. */
export function idempotencyMismatch(existing: Pick<RunRecord, "id" | "workflowKey">): ConflictError {
  return new ConflictError(
    `The idempotency key was already used for run "${existing.id}" of "${existing.workflowKey}" with a different workflow or input. Use a new key for a different request.`,
  );
}
