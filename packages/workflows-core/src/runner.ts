import { randomUUID } from "node:crypto";
import { Runner, type ModelProvider } from "@openai/agents";
import type { AgentCatalog } from "@workflows/agents";
import { ConflictError, InvalidInputError } from "./errors";
import type { WorkflowEvent } from "./events";
import { Execution, type WorkflowRunResult } from "./execution";
import type { RunRecord } from "./records";
import type { RunRecorder } from "./recorder";
import type { WorkflowRegistry } from "./registry";
import { installTracing } from "./tracing";

export type WorkflowRunnerOptions = {
  registry: WorkflowRegistry;
  catalog: AgentCatalog;
  modelProvider: ModelProvider;
  recorder: RunRecorder;
  /** Turn budget of a step that does not set `maxTurns`. */
  defaultMaxTurns?: number;
};

export type StartOptions = {
  /** Aborting cancels the run; the model call in flight is aborted. */
  signal?: AbortSignal;
  conversationId?: string | null;
  /** A second start with the same key returns the first run instead of starting another. */
  idempotencyKey?: string | null;
  workflowRunId?: string;
  /** Ask the model for streamed responses (live `step.delta` events). Default: true for start/stream, false for run. */
  streamed?: boolean;
  /** Called with each event once it is stored, in seq order. */
  onEvent?: (event: WorkflowEvent) => void;
};

export type StartedRun =
  | { created: true; workflowRunId: string; done: Promise<WorkflowRunResult> }
  | { created: false; workflowRunId: string; run: RunRecord };

/** Runs registered workflows step by step on one SDK `Runner`, reporting everything to a recorder. */
export class WorkflowRunner {
  readonly #opts: WorkflowRunnerOptions;
  readonly #sdkRunner: Runner;
  readonly #tracing = installTracing();

  constructor(opts: WorkflowRunnerOptions) {
    this.#opts = opts;
    this.#sdkRunner = new Runner({ modelProvider: opts.modelProvider, tracingDisabled: false, workflowName: "workflows" });
  }

  /** Creates the run and executes it in the background. Unknown keys and bad input throw before anything is recorded. */
  async start(key: string, input: string, opts: StartOptions = {}): Promise<StartedRun> {
    const workflow = this.#opts.registry.require(key);
    if (typeof input !== "string") throw new InvalidInputError("Workflow input must be a string.");
    const created = await this.#opts.recorder.createRun({
      id: opts.workflowRunId ?? randomUUID(),
      workflowKey: key,
      versionHash: workflow.versionHash,
      input,
      conversationId: opts.conversationId ?? null,
      idempotencyKey: opts.idempotencyKey ?? null,
    });
    if (created.status === "existing") return { created: false, workflowRunId: created.run.id, run: created.run };
    const execution = new Execution(
      { sdkRunner: this.#sdkRunner, catalog: this.#opts.catalog, recorder: this.#opts.recorder, tracing: this.#tracing, defaultMaxTurns: this.#opts.defaultMaxTurns ?? 10 },
      { workflow, workflowRunId: created.run.id, input, signal: opts.signal, streamed: opts.streamed ?? true, ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) },
    );
    return { created: true, workflowRunId: created.run.id, done: execution.execute() };
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

function alreadyRan(workflowRunId: string): ConflictError {
  return new ConflictError(`A run with this idempotency key already exists: "${workflowRunId}". Read it instead of running again.`);
}
