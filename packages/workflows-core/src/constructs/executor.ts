import type { Runner } from "@openai/agents-core";
import type { AgentCatalog } from "@workflows/agents";
import type { Admission } from "../admission";
import type { AttemptSignals } from "../attemptSignals";
import type { PausedStep } from "../approvals";
import type { PendingToolCall } from "../attempt";
import type { ChildRunEnd, ChildRunRequest } from "../childRuns";
import type { EventBody, Failure } from "../events";
import type { PlanNode } from "../plan";
import type { StepRecord } from "../records";
import type { RetryPolicy, StepContext, StepResult } from "../specs";
import type { Usage } from "../usage";

/** What every construct needs from the run executing it. */
export type RunHost = {
  sdkRunner: Runner;
  catalog: AgentCatalog;
  admission: Admission;
  workflowKey: string;
  workflowRunId: string;
  signal: AbortSignal | undefined;
  /** Each attempt's signal: the run's cancel, or the step's time limit. */
  attempts: AttemptSignals;
  streamed: boolean;
  defaultMaxTurns: number;
  retryDefaults: RetryPolicy;
  stepTimeoutMs: number;
  emit(body: EventBody): void;
  /** Adds to the run's usage total. */
  addUsage(usage: Usage): void;
  /** The step row as recorded so far (a resumed run starts from its stored rows). */
  recorded(index: number): StepRecord | undefined;
  /** Adds a settled step to what later steps see. */
  settle(result: StepResult): void;
  /**
   * Saves a step's SDK state and its tool calls as pending approvals (durably), then emits one
   * `step.approval_requested` each. The run stops waiting once the current node ends.
   */
  pause(request: PauseRequest): Promise<void>;
  /** The saved state and approvals of a step that paused (what a resume after the decisions continues from). */
  pausedStep(index: number): Promise<PausedStep | null>;
  /** Starts the child run of a sub-workflow step, or continues the one it started before; resolves when the child ended. */
  runChild(request: Omit<ChildRunRequest, "parentRunId" | "signal" | "streamed" | "trace">): Promise<ChildRunEnd>;
  /** What a step sees now: the results settled so far, plus these overrides. */
  context(overrides?: Partial<Pick<StepContext, "previousOutput" | "iteration">>): StepContext;
};

export type PauseRequest = { index: number; stepName: string; agentKey: string; state: string; calls: PendingToolCall[]; usage: Usage; deadlineAt: string | null };

/** How one step ended. `goOn`: a failure the workflow tolerates (onFailure "skip"). `paused`: it waits for approvals. */
export type StepEnd = { kind: "succeeded"; result: StepResult } | { kind: "failed"; error: Failure; goOn: boolean; result: StepResult } | { kind: "cancelled" } | { kind: "paused" };

/** How one node of the plan ended: the step loop goes on, the run ends failed or cancelled at `stepIndex`, or it waits for approvals. */
export type NodeEnd = { kind: "continue" } | { kind: "failed"; error: Failure; stepIndex: number } | { kind: "cancelled"; stepIndex: number | null } | { kind: "paused"; stepIndex: number };

/** Runs one construct (a step, a parallel stage, a loop) to its end. */
export type Executor<N extends PlanNode> = (host: RunHost, node: N) => Promise<NodeEnd>;
