import { randomUUID } from "node:crypto";
import { Runner, type ModelProvider } from "@openai/agents-core";
import type { AgentCatalog } from "@workflows/agents";
import { unlimitedAdmission, type Admission } from "./admission";
import { ApprovalDecisions, type DecideInput, type DecisionOutcome } from "./approvalDecisions";
import type { ApprovalRecord } from "./approvals";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors";
import type { EventOf, WorkflowEvent } from "./events";
import { Execution, type ExecutionDeps, type ExecutionOptions, type WorkflowRunResult } from "./execution";
import { isSettled } from "./constructs/leafStep";
import { ChildRuns } from "./childRuns";
import { parseInput } from "./input";
import type { Plan } from "./plan";
import { fingerprintOf, type RunRecord, type SpanRecord, type StepRecord } from "./records";
import { defaultRetryPolicy } from "./retry";
import type { RetryPolicy } from "./specs";
import type { RunRecorder } from "./recorder";
import type { WorkflowRegistry } from "./registry";
import { newTraceId, type TraceContext } from "./traceContext";
import { installTracing } from "./tracing";

export type WorkflowRunnerOptions = {
  registry: WorkflowRegistry;
  catalog: AgentCatalog;
  modelProvider: ModelProvider;
  recorder: RunRecorder;
  /** Turn budget of a step that does not set `maxTurns`. */
  defaultMaxTurns?: number;
  /** Retry settings of steps that do not set their own (default: 3 attempts, 1 s initial delay, x2, 30 s cap). */
  retry?: Partial<RetryPolicy>;
  /** Time limit of each attempt of a step that does not set `timeoutMs` (default 10 minutes). */
  stepTimeoutMs?: number;
  /** When runs may execute (default: at once). */
  admission?: Admission;
  /**
   * Sees every event of every run once it is stored, in each run's seq order (metrics, tracing exporters).
   * It must not throw and must be cheap: it runs on the run's delivery path.
   */
  observe?: (event: WorkflowEvent) => void;
  /**
   * Sees every Agents SDK span of every run once it is stored, in order with the run's events (a span
   * comes after the `step.started` of the attempt it belongs to). Same rules as `observe`.
   */
  observeSpan?: (span: SpanRecord) => void;
};

export type ResumeOptions = {
  resumedBy: EventOf<"run.resumed">["resumedBy"];
  /** Who asked for the resume (audit): recorded as the `run.resumed` event's `by`. */
  by?: string;
  /** Continue a run recorded with another version of its workflow on the current one. */
  allowNewVersion?: boolean;
  /**
   * The caller knows the run's owner is gone: a run still `running` or `pending` may be taken over
   * (start-up recovery). Without it only `failed`, `interrupted` and `cancelled` runs resume.
   */
  orphaned?: boolean;
  signal?: AbortSignal;
  streamed?: boolean;
  onEvent?: (event: WorkflowEvent) => void;
  /**
   * The caller's span a run that never started continues (a queued run carries its creator's context);
   * its trace id must be the run's. Runs that already started keep their own trace.
   */
  parentSpanId?: string | null;
};

export type ResumedRun = {
  workflowRunId: string;
  fromStepIndex: number;
  /** Resolves once the run is claimed (its `run.resumed` stored, after a slot was free); rejects with ConflictError when another server claimed it. */
  claimed: Promise<void>;
  done: Promise<WorkflowRunResult>;
};

const resumableStatuses: ReadonlySet<string> = new Set(["failed", "interrupted", "cancelled"]);

export type StartOptions = {
  /** Aborting cancels the run; the model call in flight is aborted. */
  signal?: AbortSignal;
  conversationId?: string | null;
  /** A second start with the same key returns the first run instead of starting another. */
  idempotencyKey?: string | null;
  /** Who starts the run (audit): recorded as the run's `createdBy`. */
  createdBy?: string | null;
  workflowRunId?: string;
  /** Ask the model for streamed responses (live `step.delta` events). Default: true for start/stream, false for run. */
  streamed?: boolean;
  /** Called with each event once it is stored, in seq order. */
  onEvent?: (event: WorkflowEvent) => void;
  /** The caller's trace, continued by the run; default: a new trace. Its trace id is stored on the run. */
  trace?: TraceContext;
};

export type CreatedRun = { created: boolean; workflowRunId: string; run: RunRecord };

export type StartedRun =
  | { created: true; workflowRunId: string; done: Promise<WorkflowRunResult> }
  | { created: false; workflowRunId: string; run: RunRecord };

/** Runs registered workflows step by step on one SDK `Runner`, reporting everything to a recorder. */
export class WorkflowRunner {
  readonly #opts: WorkflowRunnerOptions;
  readonly #deps: ExecutionDeps;
  readonly #decisions: ApprovalDecisions;

  constructor(opts: WorkflowRunnerOptions) {
    this.#opts = opts;
    this.#decisions = new ApprovalDecisions(opts.recorder);
    this.#deps = {
      sdkRunner: new Runner({ modelProvider: opts.modelProvider, tracingDisabled: false, workflowName: "workflows" }),
      catalog: opts.catalog,
      recorder: opts.recorder,
      tracing: installTracing(),
      admission: opts.admission ?? unlimitedAdmission,
      defaultMaxTurns: opts.defaultMaxTurns ?? 10,
      retryDefaults: { ...defaultRetryPolicy, ...opts.retry },
      stepTimeoutMs: opts.stepTimeoutMs ?? 600_000,
      ...(opts.observeSpan ? { observeSpan: opts.observeSpan } : {}),
      children: new ChildRuns({
        registry: opts.registry,
        recorder: opts.recorder,
        execute: (execOpts) => new Execution(this.#deps, { ...execOpts, ...this.#listeners(undefined) }).execute(),
        resume: (workflowRunId, resumeOpts) => this.#resume(workflowRunId, resumeOpts, { inheritSlot: true }),
      }),
    };
  }

  /** The run's own listener and the runner's observer, as one `onEvent` (absent when there is neither). */
  #listeners(onEvent: ((event: WorkflowEvent) => void) | undefined): { onEvent?: (event: WorkflowEvent) => void } {
    const observe = this.#opts.observe;
    if (!observe) return onEvent ? { onEvent } : {};
    if (!onEvent) return { onEvent: observe };
    return {
      onEvent: (event) => {
        observe(event);
        onEvent(event);
      },
    };
  }

  /** The workflow a request without a key runs; NotFoundError when none is marked `default: true`. */
  defaultKey(): string {
    const found = this.#opts.registry.default();
    if (!found) throw new NotFoundError("workflow", "(default)", "No workflow is marked default: name one.");
    return found.spec.key;
  }

  /**
   * Records a new `pending` run without executing it: whoever executes runs later picks it up (a queue of
   * several instances, with `resume`, which starts a run that never started). Unknown keys and bad input
   * throw before anything is recorded. With a known idempotency key the existing run is returned.
   */
  async create(key: string, input: string, opts: Pick<StartOptions, "conversationId" | "idempotencyKey" | "workflowRunId" | "createdBy" | "trace"> = {}): Promise<CreatedRun> {
    const workflow = this.#opts.registry.require(key);
    if (typeof input !== "string") throw new InvalidInputError("Workflow input must be a string.");
    // Typed input is checked before anything is recorded (InvalidInputError with the issues).
    parseInput(workflow.spec, input);
    const trace = opts.trace ?? { traceId: newTraceId(), parentSpanId: null };
    const created = await this.#opts.recorder.createRun({
      id: opts.workflowRunId ?? randomUUID(),
      workflowKey: key,
      versionHash: workflow.versionHash,
      input,
      conversationId: opts.conversationId ?? null,
      idempotencyKey: opts.idempotencyKey ?? null,
      createdBy: opts.createdBy ?? null,
      fingerprint: opts.idempotencyKey ? fingerprintOf(key, input) : null,
      traceId: trace.traceId,
    });
    return { created: created.status === "created", workflowRunId: created.run.id, run: created.run };
  }

  /** Creates the run and executes it in the background. Unknown keys and bad input throw before anything is recorded. */
  async start(key: string, input: string, opts: StartOptions = {}): Promise<StartedRun> {
    const workflow = this.#opts.registry.require(key);
    const trace = opts.trace ?? { traceId: newTraceId(), parentSpanId: null };
    const created = await this.create(key, input, { ...opts, trace });
    if (!created.created) return { created: false, workflowRunId: created.workflowRunId, run: created.run };
    const data = parseInput(workflow.spec, input);
    const execution = new Execution(this.#deps, {
      workflow,
      workflowRunId: created.workflowRunId,
      input,
      data,
      signal: opts.signal,
      streamed: opts.streamed ?? true,
      trace,
      ...this.#listeners(opts.onEvent),
    });
    return { created: true, workflowRunId: created.workflowRunId, done: execution.execute() };
  }

  /**
   * Continues a recorded run from its first unfinished step: steps that succeeded (or were skipped, or
   * failed under `onFailure: "skip"`) are not run again, and their recorded outputs feed the mappers and
   * guards that follow. The step in flight when the run stopped runs again from its start. Checks run
   * before anything is recorded: NotFoundError for an unknown run, ConflictError for a run that is not
   * resumable or whose workflow changed (unless `allowNewVersion`). `done` rejects with ConflictError when
   * another server claimed the run first.
   */
  resume(workflowRunId: string, opts: ResumeOptions): Promise<ResumedRun> {
    return this.#resume(workflowRunId, opts, {});
  }

  async #resume(workflowRunId: string, opts: ResumeOptions, extra: Pick<ExecutionOptions, "inheritSlot">): Promise<ResumedRun> {
    const loaded = await this.#opts.recorder.loadRun(workflowRunId);
    if (!loaded) throw new NotFoundError("run", workflowRunId);
    const { run, steps } = loaded;
    // One driver per child: its parent. Resuming the parent continues the child where it stopped.
    if (run.parentRunId !== null && opts.resumedBy !== "parent") {
      throw new ConflictError(`Run "${workflowRunId}" is a sub-workflow of run "${run.parentRunId}" (step ${run.parentStepIndex ?? "?"}); resume the parent run, which continues it.`);
    }
    if (run.parentRunId === null && opts.resumedBy === "parent") throw new ConflictError(`Run "${workflowRunId}" is not a sub-workflow of any run.`);
    const live = run.status === "running" || run.status === "pending";
    if (run.status === "awaiting_approval") {
      const pending = (await this.#opts.recorder.listApprovals(workflowRunId)).filter((a) => a.status === "pending");
      if (opts.resumedBy !== "approval" || pending.length > 0) {
        throw new ConflictError(`Run "${workflowRunId}" is awaiting approval (${pending.map((a) => `"${a.approvalId}" for ${a.toolName}`).join(", ") || "decided"}); decide with runs.approve, or cancel it.`);
      }
    } else if (opts.resumedBy === "approval") {
      throw new ConflictError(`Run "${workflowRunId}" is ${run.status}, not awaiting approval.`);
    } else if (!(resumableStatuses.has(run.status) || (live && opts.orphaned === true))) {
      throw new ConflictError(`Run "${workflowRunId}" is ${run.status}; only failed, interrupted or cancelled runs can be resumed.`);
    }
    const workflow = this.#opts.registry.get(run.workflowKey);
    if (!workflow) throw new ConflictError(`Run "${workflowRunId}" belongs to workflow "${run.workflowKey}", which this server does not have.`);
    if (workflow.versionHash !== run.versionHash) {
      if (opts.allowNewVersion !== true) {
        throw new ConflictError(
          `Run "${workflowRunId}" was recorded with version ${run.versionHash} of "${run.workflowKey}"; this server has version ${workflow.versionHash}. Resume with allowNewVersion: true to continue on the new version.`,
        );
      }
      assertSameSteps(workflowRunId, workflow.plan, steps);
    }
    // A resumed run continues its own trace (runs recorded before traces existed stay without one).
    const parentSpanId = run.lastSeq === 0 ? (opts.parentSpanId ?? null) : null;
    const trace = run.traceId === null ? undefined : { traceId: run.traceId, parentSpanId };
    const execOpts: ExecutionOptions = {
      workflow,
      workflowRunId,
      input: run.input,
      data: parseInput(workflow.spec, run.input),
      signal: opts.signal,
      streamed: opts.streamed ?? true,
      ...(trace ? { trace } : {}),
      ...(run.parentRunId !== null ? { parent: { workflowRunId: run.parentRunId, stepIndex: run.parentStepIndex ?? 0 } } : {}),
      ...extra,
      ...this.#listeners(opts.onEvent),
    };
    // A run that never started (it waited for a slot when its server died) simply starts.
    if (run.lastSeq === 0) {
      const fresh = new Execution(this.#deps, execOpts);
      return { workflowRunId, fromStepIndex: 0, claimed: fresh.claimed, done: fresh.execute() };
    }
    const fromStepIndex = resumePoint(workflow.plan, steps);
    const execution = new Execution(this.#deps, {
      ...execOpts,
      start: { kind: "resume", lastSeq: run.lastSeq, steps, fromStepIndex, resumedBy: opts.resumedBy, ...(opts.by !== undefined ? { by: opts.by } : {}), previousStatus: run.status },
    });
    return { workflowRunId, fromStepIndex, claimed: execution.claimed, done: execution.execute() };
  }

  /**
   * Records a decision on a pending approval of a paused run (`step.approval_resolved`, with `decidedBy`).
   * `complete`: every approval of the pause is decided; the caller then continues the run with
   * `resume(id, { resumedBy: "approval" })` (here, or through a queue). NotFoundError for an unknown run or
   * approval, ConflictError when it is decided already or the run is not awaiting approval.
   */
  decide(workflowRunId: string, input: DecideInput): Promise<DecisionOutcome> {
    return this.#decisions.decide(workflowRunId, input);
  }

  /** Expires approvals of a paused run whose deadline passed (see `approvalTimeoutMs`); null when none did. */
  expireApprovals(workflowRunId: string, now?: Date): Promise<{ complete: boolean; expired: string[] } | null> {
    return this.#decisions.expire(workflowRunId, now);
  }

  /** Cancels a run waiting for approvals (nothing executes it, so there is nothing to abort); false when it is not waiting. */
  cancelPaused(workflowRunId: string, reason: string, decidedBy: string): Promise<boolean> {
    return this.#decisions.cancel(workflowRunId, reason, decidedBy);
  }

  /** Every approval of a run, oldest first. */
  listApprovals(workflowRunId: string): Promise<ApprovalRecord[]> {
    return this.#opts.recorder.listApprovals(workflowRunId);
  }

  /** Runs a workflow to its end and returns the whole result. */
  async run(key: string, input: string, opts: Omit<StartOptions, "onEvent"> = {}): Promise<WorkflowRunResult> {
    const started = await this.start(key, input, { streamed: false, ...opts });
    if (!started.created) throw alreadyRan(started.workflowRunId);
    return started.done;
  }

  /**
   * Runs a workflow and yields its events as they are stored. Leaving the loop early does not cancel
   * the run (abort the signal for that); it goes on in the background.
   */
  async *stream(key: string, input: string, opts: Omit<StartOptions, "onEvent"> = {}): AsyncGenerator<WorkflowEvent, WorkflowRunResult> {
    const queue: WorkflowEvent[] = [];
    let wake: (() => void) | undefined;
    const started = await this.start(key, input, {
      ...opts,
      onEvent: (event) => {
        queue.push(event);
        wake?.();
      },
    });
    if (!started.created) throw alreadyRan(started.workflowRunId);
    let settled: { ok: true; result: WorkflowRunResult } | { ok: false; error: unknown } | undefined;
    started.done.then(
      (result) => (settled = { ok: true, result }),
      (error: unknown) => (settled = { ok: false, error }),
    ).finally(() => wake?.());
    for (;;) {
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (settled) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    if (!settled.ok) throw settled.error;
    return settled.result;
  }
}

/**
 * The first step row that neither succeeded, nor was skipped, nor failed under `onFailure: "skip"`. In a
 * parallel stage later rows may be settled already; the resume runs only the rows that are not.
 */
export function resumePoint(plan: Plan, steps: readonly StepRecord[]): number {
  for (const slot of plan.slots) {
    if (!isSettled(steps.find((s) => s.index === slot.index), slot.step)) return slot.index;
  }
  return plan.slots.length;
}

function assertSameSteps(workflowRunId: string, plan: Plan, steps: readonly StepRecord[]): void {
  const recorded = steps.map((s) => s.name).join(", ");
  const now = plan.slots.map((s) => s.name).join(", ");
  if (recorded !== now) {
    throw new ConflictError(`Run "${workflowRunId}" has the steps [${recorded}] but the workflow now has [${now}]; a run cannot continue on other steps. Start a new run.`);
  }
}

function alreadyRan(workflowRunId: string): ConflictError {
  return new ConflictError(`A run with this idempotency key already exists: "${workflowRunId}". Read it instead of running again.`);
}
