import { z } from "zod";

/** What an earlier step left behind, as mappers and guards see it. */
export type StepResult = {
  index: number;
  name: string;
  agentKey: string;
  status: "succeeded" | "skipped" | "failed";
  /** Final text; null when the step did not succeed. */
  output: string | null;
  /** The agent's structured output when it declares an output type; else null. */
  structuredOutput: unknown;
};

/** The one argument of every input mapper and guard. */
export type StepContext = {
  workflowKey: string;
  /** The workflow's input, as the caller gave it. */
  input: string;
  /** Results of the earlier steps, by index. */
  steps: readonly StepResult[];
  /** Results of the earlier steps, by step name. */
  byName: Readonly<Record<string, StepResult>>;
  /**
   * What the chain carries forward: the last succeeded step's structured output as JSON when it has one,
   * else its final text; the workflow input before any step succeeded.
   */
  previousOutput: string;
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

export type WorkflowStep = {
  name: string;
  agentKey: string;
  /** What the agent receives; the previous output when absent. */
  inputMapper?: InputMapper;
  /** The step runs only when this returns true. */
  guard?: StepGuard;
  /** `stop` (default): fail the run. `skip`: record the failure, go on with the previous output. Fallback: run that agent once instead. */
  onFailure?: OnFailure;
  /** Overrides the runner's default turn budget for this step. */
  maxTurns?: number;
  /** Validates the step's structured output (or its text parsed as JSON); a mismatch fails the step with INVALID_OUTPUT. */
  outputSchema?: z.ZodType;
  /** Retries of transient failures (model 5xx/429, resets, timeouts); fields left out take the service defaults. */
  retry?: Partial<RetryPolicy>;
  /** Each attempt's time limit: the model request is aborted and the attempt fails with STEP_TIMEOUT (retryable). */
  timeoutMs?: number;
};

export type WorkflowSpec = {
  key: string;
  displayName: string;
  description: string;
  steps: WorkflowStep[];
  /** The workflow run when none is named; at most one per registry. */
  default?: boolean;
  /** Allow agents that hand off inside this chain (their handoffs make it non-deterministic). */
  allowHandoffAgents?: boolean;
};

/** Typed identity: lets a workflow module be checked where it is written. */
export const defineWorkflow = (spec: WorkflowSpec): WorkflowSpec => spec;

export const retryPolicySchema = z.object({
  maxAttempts: z.number().int("maxAttempts must be an integer").min(1, "maxAttempts must be at least 1").max(100, "maxAttempts must be at most 100"),
  initialDelayMs: z.number().int().min(0, "initialDelayMs must not be negative").max(3_600_000),
  maxDelayMs: z.number().int().min(0, "maxDelayMs must not be negative").max(24 * 3_600_000),
  multiplier: z.number().min(1, "multiplier must be at least 1").max(100),
});

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === "function", { message: `${what} must be a function` });

export const workflowStepSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, "step name must be snake_case"),
  agentKey: z.string().min(1),
  inputMapper: fn<InputMapper>("inputMapper").optional(),
  guard: fn<StepGuard>("guard").optional(),
  onFailure: z.union([z.literal("stop"), z.literal("skip"), z.object({ fallbackAgentKey: z.string().min(1) })]).optional(),
  maxTurns: z.number().int("maxTurns must be an integer").min(1, "maxTurns must be at least 1").max(100, "maxTurns must be at most 100").optional(),
  outputSchema: z.custom<z.ZodType>((v) => v instanceof z.ZodType, { message: "outputSchema must be a zod schema" }).optional(),
  retry: retryPolicySchema.partial().optional(),
  timeoutMs: z.number().int("timeoutMs must be an integer").min(1, "timeoutMs must be at least 1").max(24 * 3_600_000, "timeoutMs must be at most 24 hours").optional(),
});

export const workflowSpecSchema = z.object({
  key: z.string().regex(/^[a-z][a-z0-9_]*$/, "workflow key must be snake_case"),
  displayName: z.string().min(1),
  description: z.string(),
  steps: z.array(workflowStepSchema).min(1, "a workflow needs at least one step"),
  default: z.boolean().optional(),
  allowHandoffAgents: z.boolean().optional(),
});

/** The listing contract (API `workflows.list`). */
export const workflowDescriptorSchema = z.object({
  key: z.string(),
  displayName: z.string(),
  description: z.string(),
  stepCount: z.number().int(),
  default: z.boolean(),
  allowHandoffAgents: z.boolean(),
  versionHash: z.string(),
  steps: z.array(
    z.object({
      name: z.string(),
      agentKey: z.string(),
      onFailure: z.union([z.literal("stop"), z.literal("skip"), z.object({ fallbackAgentKey: z.string() })]),
      maxTurns: z.number().int().nullable(),
      guarded: z.boolean(),
      mapped: z.boolean(),
      /** The step's own retry settings (null: the service defaults). */
      retry: retryPolicySchema.partial().nullable(),
      timeoutMs: z.number().int().nullable(),
    }),
  ),
});
export type WorkflowDescriptor = z.infer<typeof workflowDescriptorSchema>;
