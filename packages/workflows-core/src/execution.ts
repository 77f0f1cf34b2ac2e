import { randomUUID } from "node:crypto";
import type { Runner } from "@openai/agents-core";
import type { AgentCatalog } from "@workflows/agents";
import type { Admission } from "./admission";
import { AttemptSignals } from "./attemptSignals";
import { type ApprovalDecision, approvalResolved } from "./approvals";
import { executeNode, type RunHost } from "./constructs";
import type { PauseRequest } from "./constructs/executor";
import type { ChildRunPort } from "./childRuns";
import { buildContext } from "./context";
import { ConflictError, RunCancelledError, RunInterruptedError, SystemFaultError } from "./errors";
import type { EventBody, EventOf, Failure, WorkflowEvent } from "./events";
import { applyToSteps, projectEvent } from "./projection";
import type { SpanRecord, StepRecord } from "./records";
import type { RunRecorder } from "./recorder";
import type { RegisteredWorkflow } from "./registry";
import type { RetryPolicy, StepResult } from "./specs";
import type { TraceContext } from "./traceContext";
import type { installTracing } from "./tracing";
import { addUsage, zeroUsage, type Usage } from "./usage";

/** How a run ended, with every step as recorded. */
export type WorkflowRunResult = {
  workflowRunId: string;
  workflowKey: string;
  /** `awaiting_approval`: the run stopped at tool calls that need a decision; `runs.approve` continues it. */
  status: "succeeded" | "failed" | "cancelled" | "interrupted" | "awaiting_approval";
  steps: StepRecord[];
  finalOutput: string | null;
  structuredOutput: unknown;
  usage: Usage;
  error: Failure | null;
};

export type ExecutionDeps = {
  sdkRunner: Runner;
  catalog: AgentCatalog;
  recorder: RunRecorder;
  tracing: ReturnType<typeof installTracing>;
  admission: Admission;
  defaultMaxTurns: number;
  retryDefaults: RetryPolicy;
  stepTimeoutMs: number;
  /** The runner's span observer (`WorkflowRunnerOptions.observeSpan`). */
  observeSpan?: (span: SpanRecord) => void;
  /** Starts or continues the child runs of sub-workflow steps. */
  children: ChildRunPort;
};

/** Where an execution picks up a run: from nothing, or from its recorded steps (a resume). */
export type ExecutionStart =
  | { kind: "new" }
  | {
      kind: "resume";
      /** The run's recorded lastSeq; the resume claims the run by appending the next seq. */
      lastSeq: number;
      steps: StepRecord[];
      fromStepIndex: number;
      resumedBy: EventOf<"run.resumed">["resumedBy"];
      by?: string;
      previousStatus: string;
    };

export type ExecutionOptions = {
  workflow: RegisteredWorkflow;
  workflowRunId: string;
  input: string;
  /** The input as the workflow's inputSchema parsed it (the text when it has none). */
  data: unknown;
  signal?: AbortSignal | undefined;
  streamed: boolean;
  onEvent?: (event: WorkflowEvent) => void;
  start?: ExecutionStart;
  /** Carried by `run.started` / `run.resumed` for observers. */
  trace?: TraceContext;
  /** A sub-workflow's run: the parent run and step that run it (recorded on `run.started`). */
  parent?: { workflowRunId: string; stepIndex: number };
  /**
   * The run executes in the slot of the run that started it (a sub-workflow inside its parent's slot), so
   * it takes none of its own: a parent waiting for a slot its child needs would wait forever.
   */
  inheritSlot?: boolean;
};

/** One run of one workflow: admission, the step loop, its events and its records. */
export class Execution {
  readonly #deps: ExecutionDeps;
  readonly #opts: ExecutionOptions;
  readonly #results: StepResult[] = [];
  /** The step rows, kept exactly as every recorder keeps them: by projecting the events. */
  readonly #steps: StepRecord[] = [];
  #startedAt = performance.now();
  #seq = 0;
  #usage = zeroUsage();
  readonly #writes = new WriteTracker();
  /**
   * Streamed text not stored yet, by step index. The deltas of a step that arrive in one turn of the event
   * loop (a burst a fast model sends, or one network read) are stored as one `step.delta`: the same text,
   * in the same order, for far fewer events. Any other event stores them first, or the loop's next check phase.
   */
  readonly #pendingDeltas = new Map<number, DeltaBody>();
  readonly #flushDeltas = (): void => {
    if (this.#pendingDeltas.size === 0) return;
    const deltas = [...this.#pendingDeltas.values()];
    this.#pendingDeltas.clear();
    for (const delta of deltas) void this.#store(delta);
  };
  /** Resolves once every event emitted so far has been handed to onEvent, in order, each after it was stored. */
  #delivered: Promise<void> = Promise.resolve();
  #settleClaim: { resolve: () => void; reject: (error: unknown) => void } = { resolve: () => undefined, reject: () => undefined };
  /**
   * Settles when the run is in this execution's hands: its `run.started` or `run.resumed` is stored.
   * Rejects when it never will be (cancelled while waiting for a slot, or another server resumed it first).
   */
  readonly claimed: Promise<void> = new Promise<void>((resolve, reject) => (this.#settleClaim = { resolve, reject }));

  constructor(deps: ExecutionDeps, opts: ExecutionOptions) {
    // Nobody has to listen: a run started by `start` has no use for it.
    this.claimed.catch(() => undefined);
    this.#deps = deps;
    this.#opts = opts;
    this.#attempts = new AttemptSignals(opts.signal);
    const start = opts.start;
    if (start?.kind === "resume") {
      this.#seq = start.lastSeq;
      for (const row of start.steps) {
        this.#steps.push(structuredClone(row));
        this.#usage = addUsage(this.#usage, row.usage);
      }
    }
  }

  /**
   * Waits for a slot, then runs (or resumes) the run to its end. A resume that another server claimed
   * first rejects with `ConflictError` and records nothing.
   */
  async execute(): Promise<WorkflowRunResult> {
    const { workflow, workflowRunId, signal } = this.#opts;
    const start = this.#opts.start ?? { kind: "new" };
    let release: (() => void) | undefined;
    try {
      release = this.#opts.inheritSlot === true ? () => undefined : await this.#deps.admission.acquire(signal);
    } catch {
      // Cancelled while waiting for a slot: a new run ends cancelled; a run waiting to resume stays as it was.
      const notStarted = new ConflictError(`Run "${workflowRunId}" was cancelled before it ${start.kind === "resume" ? "resumed" : "started"}.`);
      this.#settleClaim.reject(notStarted);
      if (start.kind === "resume") throw notStarted;
      const result = this.#cancelled(null);
      await this.#settle();
      return result;
    }
    this.#startedAt = performance.now();
    const detach = this.#deps.tracing.attach(workflowRunId, (span) => this.#recordSpan(span));
    let result: WorkflowRunResult;
    let defect: unknown;
    try {
      if (start.kind === "resume") await this.#claimRun(start);
      else {
        const started = this.#store({
          type: "run.started",
          input: this.#opts.input,
          versionHash: workflow.versionHash,
          steps: workflow.plan.slots.map((s) => ({ name: s.name, agentKey: s.agentKey, stage: s.stage, iteration: s.iteration })),
          ...this.#trace(),
          ...(this.#opts.parent ? { parent: this.#opts.parent } : {}),
        });
        started.then(this.#settleClaim.resolve, this.#settleClaim.reject);
      }
      result = await this.#loop();
    } catch (error) {
      if (error instanceof LostClaim) {
        release();
        const lost = new ConflictError(`Run "${workflowRunId}" was resumed by another server first.`, { cause: error.cause });
        this.#settleClaim.reject(lost);
        throw lost;
      }
      // A defect of ours, not of the model: record it so the run does not stay "running" forever, then report it.
      defect = error;
      result = this.#finish("failed", { code: "INTERNAL", message: "The runner failed unexpectedly." }, null);
    } finally {
      detach();
      this.#attempts.close();
    }
    await this.#settle();
    release();
    if (this.#writes.failed) {
      throw new SystemFaultError("STORAGE_ERROR", `Run "${workflowRunId}" of "${workflow.spec.key}" could not be fully recorded.`, { cause: this.#writes.error });
    }
    if (defect !== undefined) throw new SystemFaultError("INTERNAL", `Run "${workflowRunId}" of "${workflow.spec.key}" failed unexpectedly.`, { cause: defect });
    return result;
  }

  /** Appends `run.resumed` and waits for it: its seq guard makes exactly one resumer win. */
  async #claimRun(start: Extract<ExecutionStart, { kind: "resume" }>): Promise<void> {
    const { workflow } = this.#opts;
    const stored = this.#store({ type: "run.resumed", fromStepIndex: start.fromStepIndex, resumedBy: start.resumedBy, ...(start.by !== undefined ? { by: start.by } : {}), previousStatus: start.previousStatus, versionHash: workflow.versionHash, ...this.#trace() });
    try {
      await stored;
    } catch (error) {
      throw new LostClaim(error);
    }
    this.#settleClaim.resolve();
  }

  /** Walks the plan from its first node; on a resume, steps already settled give their recorded results without running. */
  async #loop(): Promise<WorkflowRunResult> {
    const { signal } = this.#opts;
    for (const node of this.#opts.workflow.plan.nodes) {
      const first = node.kind === "step" ? node.slot.index : node.kind === "parallel" ? (node.branches[0]?.index ?? 0) : (node.passes[0]?.[0]?.index ?? 0);
      if (signal?.aborted) return this.#cancelled(null);
      if (this.#writes.failed) return this.#finish("failed", { code: "STORAGE_ERROR", message: "Recording the run failed." }, first);
      const end = await executeNode(this.#host(), node);
      if (end.kind === "cancelled" || end.kind === "failed") await this.#closeApprovals(end.kind === "failed" ? `failed at step ${end.stepIndex ?? "?"}` : "was cancelled");
      if (end.kind === "cancelled") return this.#cancelled(end.stepIndex);
      if (end.kind === "failed") return this.#finish("failed", end.error, end.stepIndex);
      if (end.kind === "paused") return this.#pause(end.stepIndex);
    }
    return this.#finish("succeeded", null, null);
  }

  /** The signals of this execution's attempts. */
  readonly #attempts: AttemptSignals;
  #hostCache: RunHost | undefined;
  #host(): RunHost {
    const { workflow, workflowRunId, signal, streamed, input, data } = this.#opts;
    return (this.#hostCache ??= {
      sdkRunner: this.#deps.sdkRunner,
      catalog: this.#deps.catalog,
      admission: this.#deps.admission,
      workflowKey: workflow.spec.key,
      workflowRunId,
      signal,
      attempts: this.#attempts,
      streamed,
      defaultMaxTurns: this.#deps.defaultMaxTurns,
      retryDefaults: this.#deps.retryDefaults,
      stepTimeoutMs: this.#deps.stepTimeoutMs,
      emit: (body) => this.#emit(body),
      addUsage: (usage) => (this.#usage = addUsage(this.#usage, usage)),
      recorded: (index) => this.#steps.find((s) => s.index === index),
      settle: (result) => this.#results.push(result),
      pause: (request) => this.#pauseStep(request),
      pausedStep: (index) => this.#deps.recorder.loadPausedStep(workflowRunId, index),
      runChild: (request) => this.#deps.children.run({ ...request, parentRunId: workflowRunId, signal, streamed, ...this.#trace() }),
      context: (overrides) => ({ ...buildContext(workflow.spec.key, input, data, this.#results), iteration: null, ...overrides }),
    });
  }

  /** Approvals this execution asked for, with their deadlines: what `run.awaiting_approval` lists. */
  readonly #approvals: { approvalId: string; deadlineAt: string | null; stepIndex: number; stepName: string; toolName: string }[] = [];

  /**
   * A node that paused one branch and failed (or was cancelled in) another ends the run: the approvals this
   * execution asked for can no longer be decided, so they end `cancelled` (recorded, then one
   * `step.approval_resolved` each) before the run's terminal event.
   */
  async #closeApprovals(what: string): Promise<void> {
    const reason = `The run ${what} before a decision.`;
    for (const approval of this.#approvals.splice(0)) {
      const decision: ApprovalDecision = { status: "cancelled", reason, decidedBy: "system", decidedAt: new Date().toISOString() };
      const decided = this.#deps.recorder.decideApproval(this.#opts.workflowRunId, approval.approvalId, decision).then(() => undefined);
      this.#writes.track(decided);
      await decided.catch(() => undefined);
      // A failed write fails the run as STORAGE_ERROR (see execute); nothing more is claimed after it.
      if (this.#writes.failed) return;
      this.#emit(approvalResolved(approval, approval.stepName, decision));
    }
  }

  /** Stores the step's state and approvals before any event names them, so a decision always finds them. */
  async #pauseStep(request: PauseRequest): Promise<void> {
    const requestedAt = new Date().toISOString();
    const approvals = request.calls.map((call) => ({
      approvalId: randomUUID(),
      workflowRunId: this.#opts.workflowRunId,
      stepIndex: request.index,
      agentKey: call.agentKey,
      toolName: call.toolName,
      callId: call.callId,
      arguments: call.arguments,
      requestedAt,
      deadlineAt: request.deadlineAt,
      state: request.state,
    }));
    const saved = this.#deps.recorder.savePause(approvals);
    this.#writes.track(saved);
    await saved;
    for (const approval of approvals) {
      this.#approvals.push({ approvalId: approval.approvalId, deadlineAt: approval.deadlineAt, stepIndex: request.index, stepName: request.stepName, toolName: approval.toolName });
      this.#emit({
        type: "step.approval_requested",
        stepIndex: request.index,
        stepName: request.stepName,
        approvalId: approval.approvalId,
        agentKey: approval.agentKey,
        toolName: approval.toolName,
        arguments: approval.arguments,
        deadlineAt: approval.deadlineAt,
        usage: request.usage,
      });
    }
  }

  /** The run waits for decisions: recorded `awaiting_approval`, nothing held in memory; the slot is given back. */
  #pause(stepIndex: number): WorkflowRunResult {
    const deadlines = this.#approvals.flatMap((a) => (a.deadlineAt === null ? [] : [a.deadlineAt])).sort();
    this.#emit({ type: "run.awaiting_approval", stepIndex, approvalIds: this.#approvals.map((a) => a.approvalId), deadlineAt: deadlines[0] ?? null, usage: this.#usage });
    return this.#result("awaiting_approval", null);
  }

  #cancelFailure(): Failure & { interrupted: boolean } {
    const reason: unknown = this.#opts.signal?.reason;
    const message = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "Cancelled.";
    if (reason instanceof RunInterruptedError) return { code: "INTERRUPTED", message, interrupted: true };
    return { code: "CANCELLED", message, interrupted: false };
  }

  #cancelled(stepIndex: number | null): WorkflowRunResult {
    const { interrupted, ...failure } = this.#cancelFailure();
    return this.#finish(interrupted ? "interrupted" : "cancelled", failure, stepIndex);
  }

  /** Who cancelled the run, when a cancel request (not shutdown or a dead server) aborted it. */
  #cancelledBy(): { by?: string } {
    const reason: unknown = this.#opts.signal?.reason;
    return reason instanceof RunCancelledError ? { by: reason.by } : {};
  }

  #finish(status: WorkflowRunResult["status"], error: Failure | null, stepIndex: number | null): WorkflowRunResult {
    const durationMs = performance.now() - this.#startedAt;
    const { finalOutput, structuredOutput } = this.#finalOutput();
    if (status === "succeeded") this.#emit({ type: "run.completed", finalOutput: finalOutput ?? "", structuredOutput, usage: this.#usage, durationMs });
    else if (status === "failed") this.#emit({ type: "run.failed", error: error ?? { code: "INTERNAL", message: "failed" }, stepIndex, usage: this.#usage, durationMs });
    else if (status === "interrupted") this.#emit({ type: "run.cancelled", reason: error?.message ?? "Interrupted.", stepIndex, usage: this.#usage, durationMs, interrupted: true });
    else {
      this.#emit({ type: "run.cancelled", reason: error?.message ?? "Cancelled.", stepIndex, usage: this.#usage, durationMs, ...this.#cancelledBy() });
    }
    return this.#result(status, error);
  }

  #finalOutput(): { finalOutput: string | null; structuredOutput: unknown } {
    const last = this.#results.findLast((r) => r.status === "succeeded");
    return { finalOutput: last?.output ?? null, structuredOutput: last?.structuredOutput ?? null };
  }

  #result(status: WorkflowRunResult["status"], error: Failure | null): WorkflowRunResult {
    const { finalOutput, structuredOutput } = this.#finalOutput();
    return { workflowRunId: this.#opts.workflowRunId, workflowKey: this.#opts.workflow.spec.key, status, steps: this.#steps, finalOutput, structuredOutput, usage: this.#usage, error };
  }

  /** Waits until every write has settled and every stored event has been delivered. */
  async #settle(): Promise<void> {
    this.#flushDeltas();
    await this.#writes.idle();
    await this.#delivered;
  }

  #trace(): { trace?: TraceContext } {
    return this.#opts.trace ? { trace: this.#opts.trace } : {};
  }

  /** Stores an SDK span; the span observer sees it once stored, in the same order as the events. */
  #recordSpan(span: SpanRecord): void {
    const stored = this.#deps.recorder.recordSpan(span);
    this.#writes.track(stored);
    const observeSpan = this.#deps.observeSpan;
    if (!observeSpan) return;
    this.#delivered = this.#delivered
      .then(() => stored)
      .then(
        () => {
          if (!this.#writes.failed) observeSpan(span);
        },
        () => undefined,
      );
  }

  /**
   * Stamps and stores an event (a step's streamed text at the end of the turn: `#pendingDeltas`). Storage
   * runs behind the loop; onEvent sees each event only once stored, in order.
   */
  #emit(body: EventBody): void {
    if (body.type !== "step.delta") {
      void this.#store(body);
      return;
    }
    const pending = this.#pendingDeltas.get(body.stepIndex);
    if (pending) {
      pending.delta += body.delta;
      return;
    }
    if (this.#pendingDeltas.size === 0) setImmediate(this.#flushDeltas);
    this.#pendingDeltas.set(body.stepIndex, { ...body });
  }

  /** As `#emit`, and the returned promise settles once the event is stored (rejections are tracked, not lost). */
  #store(body: EventBody): Promise<void> {
    // Text streamed before this event is stored before it.
    if (this.#pendingDeltas.size > 0) this.#flushDeltas();
    // Spread last: V8 clones `{ ...body }` fast only when the spread comes first in the literal (measured: 0.1 vs 1.3 µs).
    const event: WorkflowEvent = { workflowRunId: this.#opts.workflowRunId, workflowKey: this.#opts.workflow.spec.key, seq: ++this.#seq, at: isoNow(), ...body };
    applyToSteps(this.#steps, projectEvent(event));
    let stored: Promise<void>;
    try {
      stored = this.#deps.recorder.append(event);
    } catch (error) {
      // A recorder that throws instead of rejecting is still a storage failure, not a crash of the run.
      stored = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.#writes.track(stored);
    const onEvent = this.#opts.onEvent;
    if (!onEvent) return stored;
    // After a storage failure nothing more is delivered: a consumer never sees an event past a gap.
    this.#delivered = this.#delivered
      .then(() => stored)
      .then(
        () => {
          if (!this.#writes.failed) onEvent(event);
        },
        () => undefined,
      );
    return stored;
  }
}

type DeltaBody = Extract<EventBody, { type: "step.delta" }>;

/** A resume whose `run.resumed` another writer beat to the run's next seq. */
class LostClaim extends Error {
  constructor(cause: unknown) {
    super("lost the claim on the run", { cause });
  }
}

let lastMs = 0;
let lastIso = "";
/** The current time as ISO-8601; formatted once per millisecond (events come many per ms on fast steps). */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** Storage writes in flight, without a promise chain per write; remembers the first failure. */
class WriteTracker {
  #inFlight = 0;
  #onIdle: (() => void) | undefined;
  failed = false;
  error: unknown = undefined;

  track(write: Promise<void>): void {
    this.#inFlight++;
    write.then(
      () => this.#settle(),
      (error: unknown) => {
        if (!this.failed) {
          this.failed = true;
          this.error = error;
        }
        this.#settle();
      },
    );
  }

  idle(): Promise<void> {
    return this.#inFlight === 0 ? Promise.resolve() : new Promise((resolve) => (this.#onIdle = resolve));
  }

  #settle(): void {
    if (--this.#inFlight === 0) this.#onIdle?.();
  }
}
