import { z } from "zod";
import type { CodeStepFn, InputMapper, StepContext, StepGuard } from "./specs";

export const retryPolicySchema = z.object({
  maxAttempts: z.number().int("maxAttempts must be an integer").min(1, "maxAttempts must be at least 1").max(100, "maxAttempts must be at most 100"),
  initialDelayMs: z.number().int().min(0, "initialDelayMs must not be negative").max(3_600_000),
  maxDelayMs: z.number().int().min(0, "maxDelayMs must not be negative").max(24 * 3_600_000),
  multiplier: z.number().min(1, "multiplier must be at least 1").max(100),
});

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === "function", { message: `${what} must be a function` });
const zodSchema = (what: string) => z.custom<z.ZodType>((v) => v instanceof z.ZodType, { message: `${what} must be a zod schema` });
const name = (what: string) => z.string().regex(/^[a-z][a-z0-9_]*$/, `${what} must be snake_case`);

const common = {
  name: name("step name"),
  guard: fn<StepGuard>("guard").optional(),
  onGuardFalse: z.enum(["skip", "fail"]).optional(),
  guardReason: fn<(ctx: StepContext) => string>("guardReason").optional(),
  outputSchema: zodSchema("outputSchema").optional(),
  retry: retryPolicySchema.partial().optional(),
  timeoutMs: z.number().int("timeoutMs must be an integer").min(1, "timeoutMs must be at least 1").max(24 * 3_600_000, "timeoutMs must be at most 24 hours").optional(),
};

export const agentStepSchema = z.object({
  ...common,
  kind: z.literal("agent").optional(),
  agentKey: z.string().min(1),
  inputMapper: fn<InputMapper>("inputMapper").optional(),
  onFailure: z.union([z.literal("stop"), z.literal("skip"), z.object({ fallbackAgentKey: z.string().min(1) })]).optional(),
  maxTurns: z.number().int("maxTurns must be an integer").min(1, "maxTurns must be at least 1").max(100, "maxTurns must be at most 100").optional(),
  approvalTimeoutMs: z
    .number({ error: "approvalTimeoutMs must be a number of milliseconds" })
    .int("approvalTimeoutMs must be an integer")
    .min(1, "approvalTimeoutMs must be at least 1")
    .max(30 * 24 * 3_600_000, "approvalTimeoutMs must be at most 30 days")
    .optional(),
});

export const codeStepSchema = z.object({
  ...common,
  kind: z.literal("code"),
  run: fn<CodeStepFn>("run"),
  onFailure: z.enum(["stop", "skip"]).optional(),
});

const leafStepSchema = z.union([agentStepSchema, codeStepSchema], { error: "a step needs an agentKey, or kind: \"code\" and a run function" });

export const parallelStageSchema = z.object({
  kind: z.literal("parallel"),
  name: name("stage name"),
  branches: z.array(leafStepSchema).min(2, "a parallel stage needs at least two branches"),
  reduce: leafStepSchema,
  maxConcurrency: z.number().int().min(1, "maxConcurrency must be at least 1").optional(),
});

export const loopStageSchema = z.object({
  kind: z.literal("loop"),
  name: name("loop name"),
  steps: z.array(leafStepSchema).min(1, "a loop needs at least one step"),
  until: fn<(ctx: StepContext) => boolean>("until"),
  maxIterations: z.number({ error: "a loop needs maxIterations (its limit of passes)" }).int("maxIterations must be an integer").min(1, "maxIterations must be at least 1").max(50, "maxIterations must be at most 50"),
  onExhausted: z.enum(["fail", "continue"]).optional(),
});

/** Dispatches on `kind` so a bad stage reports its own field, not "no union member matched". */
export const workflowStepSchema = z.unknown().pipe(
  z.custom<unknown>().superRefine((value, ctx) => {
    const kind = typeof value === "object" && value !== null ? (value as { kind?: unknown }).kind : undefined;
    const schema = kind === "parallel" ? parallelStageSchema : kind === "loop" ? loopStageSchema : kind === "code" ? codeStepSchema : agentStepSchema;
    const parsed = schema.safeParse(value);
    if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
  }),
);

export const workflowSpecSchema = z.object({
  key: name("workflow key"),
  displayName: z.string().min(1),
  description: z.string(),
  steps: z.array(workflowStepSchema).min(1, "a workflow needs at least one step"),
  inputSchema: zodSchema("inputSchema").optional(),
  default: z.boolean().optional(),
  allowHandoffAgents: z.boolean().optional(),
});

/** The listing contract (API `workflows.list`). */
export const workflowDescriptorSchema = z.object({
  key: z.string(),
  displayName: z.string(),
  description: z.string(),
  /** Step rows a run records at most (a loop counts each pass). */
  stepCount: z.number().int(),
  default: z.boolean(),
  allowHandoffAgents: z.boolean(),
  versionHash: z.string(),
  /** JSON Schema of the input: the workflow's inputSchema, or `{ "type": "string" }` for a plain text workflow. */
  inputSchema: z.record(z.string(), z.unknown()),
  steps: z.array(
    z.object({
      name: z.string(),
      /** The agent, or "(code)" for a code step. */
      agentKey: z.string(),
      kind: z.enum(["agent", "code"]),
      /** The parallel stage or loop the step belongs to; null at the top level. */
      stage: z.object({ name: z.string(), kind: z.enum(["parallel", "loop"]), role: z.enum(["branch", "reduce", "body"]), maxIterations: z.number().int().nullable() }).nullable(),
      onFailure: z.union([z.literal("stop"), z.literal("skip"), z.object({ fallbackAgentKey: z.string() })]),
      maxTurns: z.number().int().nullable(),
      guarded: z.boolean(),
      mapped: z.boolean(),
      /** JSON Schema of the step's structured output; null when it declares none. */
      outputSchema: z.record(z.string(), z.unknown()).nullable(),
      /** The step's own retry settings (null: the service defaults). */
      retry: retryPolicySchema.partial().nullable(),
      timeoutMs: z.number().int().nullable(),
      /** How long a tool approval may wait (null: until someone decides). */
      approvalTimeoutMs: z.number().int().nullable(),
    }),
  ),
});
export type WorkflowDescriptor = z.infer<typeof workflowDescriptorSchema>;
