import type { z } from "zod";

/** What an earlier step left behind, as mappers and guards see it. */
export type StepResult = {
  index: number;
  name: string;
  /** The agent that answered; `CODE_STEP_AGENT` for a code step. */
  agentKey: string;
  status: "succeeded" | "skipped" | "failed";
  /** Final text; null when the step did not succeed. */
  output: string | null;
  /** The structured output (an agent's output type, a step's outputSchema, a code step's non-text value); else null. */
  structuredOutput: unknown;
};

/** The one argument of every input mapper, guard, code step and loop condition. */
export type StepContext = {
  workflowKey: string;
  /** The workflow's input, as the caller gave it (JSON text when it was a JSON value). */
  input: string;
  /** The input parsed by the workflow's `inputSchema`; the input text when it declares none. */
  data: unknown;
  /** Results of the earlier steps, by index. */
  steps: readonly StepResult[];
  /** Results of the earlier steps, by step name (in a loop: the latest pass). */
  byName: Readonly<Record<string, StepResult>>;
  /**
   * What the chain carries forward: the last succeeded step's structured output as JSON when it has one,
   * else its final text; the workflow input before any step succeeded. For a stage's reducer: every
   * branch's output, one section per branch.
   */
  previousOutput: string;
  /** The loop pass (1-based) of a step inside a loop; null elsewhere. */
  iteration: number | null;
};

export type InputMapper = (ctx: StepContext) => string;
export type StepGuard = (ctx: StepContext) => boolean;
export type OnFailure = "stop" | "skip" | { fallbackAgentKey: string };

/** How a step retries transient failures: exponential backoff with full jitter, capped. */
export type RetryPolicy = {
  /** Attempts in all, the first included (1 = no retry). */
  maxAttempts: number;
  /** Cap of the first retry's delay. */
  initialDelayMs: number;
  /** Cap of any retry's delay. */
  maxDelayMs: number;
  /** Growth of the cap from one retry to the next. */
  multiplier: number;
};

/** What every step kind shares. */
type StepCommon = {
  name: string;
  /** The step runs only when this returns true. */
  guard?: StepGuard;
  /** `skip` (default): a false guard skips the step. `fail`: it fails the step with GUARD_REJECTED (the run stops unless onFailure is `skip`). */
  onGuardFalse?: "skip" | "fail";
  /** Why the guard said no, recorded as the skip reason or the failure message. */
  guardReason?: (ctx: StepContext) => string;
  /** Validates the step's structured output (or its text parsed as JSON); a mismatch fails the step with INVALID_OUTPUT. */
  outputSchema?: z.ZodType;
  /** Retries of transient failures (model 5xx/429, resets, timeouts, a code step's throw); fields left out take the service defaults. */
  retry?: Partial<RetryPolicy>;
  /** Each attempt's time limit: the attempt is aborted and fails with STEP_TIMEOUT (retryable). */
  timeoutMs?: number;
};

/** A step that asks an agent of the catalog. */
export type AgentStep = StepCommon & {
  kind?: "agent";
  agentKey: string;
  /** What the agent receives; the previous output when absent. */
  inputMapper?: InputMapper;
  /** `stop` (default): fail the run. `skip`: record the failure, go on with the previous output. Fallback: run that agent once instead. */
  onFailure?: OnFailure;
  /** Overrides the runner's default turn budget for this step. */
  maxTurns?: number;
  /**
   * How long a tool call that needs approval (a tool defined with `needsApproval`) may wait for a decision;
   * past it the step fails with APPROVAL_TIMEOUT. Without it the run waits until someone decides or cancels.
   */
  approvalTimeoutMs?: number;
};

/** What a code step's function gets besides the context. */
export type CodeStepTools = {
  /** Aborts when the run is cancelled or the attempt passes its time limit. */
  signal: AbortSignal;
  /** 1 for the first attempt of the step, counting retries. */
  attempt: number;
};
export type CodeStepFn = (ctx: StepContext, tools: CodeStepTools) => unknown;

/** A step that runs a plain (async) function: fetch, compute, call a tool directly. Text becomes the output, any other value the structured output. */
export type CodeStep = StepCommon & {
  kind: "code";
  run: CodeStepFn;
  /** `stop` (default): fail the run. `skip`: record the failure, go on. */
  onFailure?: "stop" | "skip";
};

/** A step that runs one thing: an agent or a function. Branches, reducers and loop bodies are made of these. */
export type LeafStep = AgentStep | CodeStep;

/**
 * Branches that run at once, each recorded as its own step, then a reducer (an agent or a code step)
 * that receives all their results. A branch with `onFailure: "skip"` may fail without failing the stage.
 */
export type ParallelStage = {
  kind: "parallel";
  name: string;
  branches: LeafStep[];
  reduce: LeafStep;
  /** Branches running at the same time (default: all). Each one beyond the run's own slot takes a slot of the service. */
  maxConcurrency?: number;
};

/** Repeats its steps until `until` holds after a pass; each pass is recorded as its own steps with its iteration number. */
export type LoopStage = {
  kind: "loop";
  name: string;
  steps: LeafStep[];
  /** Checked after every pass; true ends the loop. */
  until: (ctx: StepContext) => boolean;
  /** Passes at most; required. */
  maxIterations: number;
  /** When the last pass still does not satisfy `until`: `fail` (default, LOOP_EXHAUSTED) or `continue` with the last pass's output. */
  onExhausted?: "fail" | "continue";
};

export type WorkflowStep = LeafStep | ParallelStage | LoopStage;

export type WorkflowSpec = {
  key: string;
  displayName: string;
  description: string;
  steps: WorkflowStep[];
  /** Validates the input (JSON text parsed first); the parsed value is `ctx.data`. Without it the input is plain text. */
  inputSchema?: z.ZodType;
  /** The workflow run when none is named; at most one per registry. */
  default?: boolean;
  /** Allow agents that hand off inside this chain (their handoffs make it non-deterministic). */
  allowHandoffAgents?: boolean;
};

/** The agent key recorded for a code step (no agent of the catalog can have this key). */
export const CODE_STEP_AGENT = "(code)";

export const isCodeStep = (step: WorkflowStep): step is CodeStep => step.kind === "code";
export const isLeafStep = (step: WorkflowStep): step is LeafStep => step.kind === undefined || step.kind === "agent" || step.kind === "code";
export const agentKeyOf = (step: LeafStep): string => (step.kind === "code" ? CODE_STEP_AGENT : step.agentKey);

/** Typed identity: lets a workflow module be checked where it is written. */
export const defineWorkflow = (spec: WorkflowSpec): WorkflowSpec => spec;

/**
 * A step whose declared outputSchema types what later steps read: `step.resultOf(ctx)` is the validated
 * structured output (already parsed by the runner; not parsed again), undefined before the step succeeded.
 */
export function typedStep<S extends LeafStep & { outputSchema: z.ZodType }>(step: S): S & { resultOf(ctx: StepContext): z.output<S["outputSchema"]> | undefined } {
  return Object.assign(step, {
    resultOf: (ctx: StepContext) => {
      const found = ctx.byName[step.name];
      return found?.status === "succeeded" ? (found.structuredOutput as z.output<S["outputSchema"]>) : undefined;
    },
  });
}
