import { z } from "zod";
import { failureCodes } from "./errors";
import { traceContextSchema } from "./traceContext";
import { usageSchema } from "./usage";

export const failureSchema = z.object({
  code: z.enum(failureCodes),
  message: z.string(),
});
export type Failure = z.infer<typeof failureSchema>;

/** A failure as the retry decision saw it. */
export const attemptFailureSchema = failureSchema.extend({ retryable: z.boolean() });
export type AttemptFailure = z.infer<typeof attemptFailureSchema>;

const base = {
  workflowRunId: z.string(),
  workflowKey: z.string(),
  /** 1, 2, 3, ... per run, without gaps. */
  seq: z.number().int().positive(),
  /** ISO-8601 timestamp. */
  at: z.string(),
};
const stepBase = {
  ...base,
  stepIndex: z.number().int().nonnegative(),
  stepName: z.string(),
};

/** What happened inside a step, as the Agents SDK reported it. */
export const stepItemSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("tool_called"), agentKey: z.string(), toolName: z.string(), callId: z.string().nullable(), arguments: z.string() }),
  z.object({ kind: z.literal("tool_output"), agentKey: z.string(), toolName: z.string().nullable(), callId: z.string().nullable(), output: z.string() }),
  z.object({ kind: z.literal("handoff_requested"), agentKey: z.string(), toolName: z.string() }),
  z.object({ kind: z.literal("handoff_occurred"), fromAgentKey: z.string(), toAgentKey: z.string() }),
  z.object({ kind: z.literal("message"), agentKey: z.string(), text: z.string() }),
]);
export type StepItem = z.infer<typeof stepItemSchema>;

export const workflowEventSchema = z.discriminatedUnion("type", [
  z.object({
    ...base,
    type: z.literal("run.started"),
    input: z.string(),
    versionHash: z.string(),
    /** Every step row the run may record, in index order; `stage` and `iteration` place a row in a parallel stage or a loop pass. */
    steps: z.array(z.object({ name: z.string(), agentKey: z.string(), stage: z.string().nullish(), iteration: z.number().int().positive().nullish() })),
    /** The trace this run belongs to (absent in runs recorded before traces existed). */
    trace: traceContextSchema.optional(),
    /** A sub-workflow's run: the run whose step started it, and that step's index (absent for top-level runs). */
    parent: z.object({ workflowRunId: z.string(), stepIndex: z.number().int().nonnegative() }).optional(),
  }),
  z.object({
    ...stepBase,
    type: z.literal("step.started"),
    agentKey: z.string(),
    input: z.string(),
    attempt: z.number().int().positive(),
    /** The attempt continues from its saved state after a decision on its tool approvals (not a new attempt). */
    fromApproval: z.boolean().optional(),
    /** A sub-workflow step: the child run it started or continues (its events are that run's own). */
    childRunId: z.string().optional(),
  }),
  z.object({ ...stepBase, type: z.literal("step.delta"), delta: z.string() }),
  z.object({ ...stepBase, type: z.literal("step.item"), item: stepItemSchema }),
  z.object({
    ...stepBase,
    type: z.literal("step.completed"),
    agentKey: z.string(),
    output: z.string(),
    structuredOutput: z.unknown().nullable(),
    usage: usageSchema,
    responseId: z.string().nullable(),
    durationMs: z.number().nonnegative(),
  }),
  z.object({
    ...stepBase,
    type: z.literal("step.retrying"),
    agentKey: z.string(),
    /** The attempt that failed; the next one is `attempt + 1`. */
    attempt: z.number().int().positive(),
    /** Wait before the next attempt (backoff with jitter, or what the model's Retry-After asked for). */
    delayMs: z.number().nonnegative(),
    error: attemptFailureSchema,
    /** Everything the step used so far, failed attempts included. */
    usage: usageSchema,
  }),
  z.object({ ...stepBase, type: z.literal("step.skipped"), agentKey: z.string(), reason: z.string() }),
  z.object({
    ...stepBase,
    type: z.literal("step.failed"),
    agentKey: z.string(),
    attempt: z.number().int().positive(),
    error: failureSchema,
    usage: usageSchema,
    /** What the runner does next: stop the run, skip to the next step, or retry with the fallback agent. */
    onFailure: z.enum(["stop", "skip", "fallback"]),
    durationMs: z.number().nonnegative(),
  }),
  /** A tool call of the step needs a person's decision (`runs.approve`); the step waits, its SDK state saved. */
  z.object({
    ...stepBase,
    type: z.literal("step.approval_requested"),
    approvalId: z.string(),
    agentKey: z.string(),
    toolName: z.string(),
    /** The tool call's arguments, as JSON text. */
    arguments: z.string(),
    /** When an unanswered approval fails the step (APPROVAL_TIMEOUT); null without `approvalTimeoutMs`. */
    deadlineAt: z.string().nullable(),
    /** Everything the step used so far, the paused attempt included. */
    usage: usageSchema,
  }),
  /** A decision on an approval: approved, rejected, or expired (nobody answered before the deadline). */
  z.object({
    ...stepBase,
    type: z.literal("step.approval_resolved"),
    approvalId: z.string(),
    toolName: z.string(),
    approved: z.boolean(),
    expired: z.boolean(),
    reason: z.string().nullable(),
    /** Who decided: the caller's identity ("local" without authentication), "timeout", or "system" (the run ended before a decision). */
    decidedBy: z.string(),
  }),
  /** The run stopped at a step waiting for approvals: nothing executes it until every approval is decided. */
  z.object({
    ...base,
    type: z.literal("run.awaiting_approval"),
    stepIndex: z.number().int().nonnegative(),
    approvalIds: z.array(z.string()),
    deadlineAt: z.string().nullable(),
    usage: usageSchema,
  }),
  z.object({ ...base, type: z.literal("run.completed"), finalOutput: z.string(), structuredOutput: z.unknown().nullable(), usage: usageSchema, durationMs: z.number().nonnegative() }),
  z.object({ ...base, type: z.literal("run.failed"), error: failureSchema, stepIndex: z.number().int().nonnegative().nullable(), usage: usageSchema, durationMs: z.number().nonnegative() }),
  z.object({
    ...base,
    type: z.literal("run.cancelled"),
    reason: z.string(),
    stepIndex: z.number().int().nonnegative().nullable(),
    usage: usageSchema,
    durationMs: z.number().nonnegative(),
    /** True when the service stopped the run at shutdown (status `interrupted`) rather than a cancel request. */
    interrupted: z.boolean().optional(),
    /** Who cancelled it through the API (an API key's name, or `local`). */
    by: z.string().optional(),
  }),
  /** The run was found unfinished by a server that could not resume it (its owner died, resume off or impossible). */
  z.object({ ...base, type: z.literal("run.interrupted"), reason: z.string(), stepIndex: z.number().int().nonnegative().nullable(), usage: usageSchema }),
  /** A finished or orphaned run continues from its first unfinished step, on the same log and seq. */
  z.object({
    ...base,
    type: z.literal("run.resumed"),
    fromStepIndex: z.number().int().nonnegative(),
    /** `parent`: a sub-workflow's run continued by its resumed parent. */
    resumedBy: z.enum(["start-up", "api", "approval", "parent"]),
    /** Who asked for it through the API (an API key's name, or `local`). */
    by: z.string().optional(),
    /** The status the run had before. */
    previousStatus: z.string(),
    /** The workflow version the run continues with (differs from the run's when resumed with allowNewVersion). */
    versionHash: z.string(),
    /** The run's trace, continued by this part of the run (absent when the run has no trace id). */
    trace: traceContextSchema.optional(),
  }),
]);
export type WorkflowEvent = z.infer<typeof workflowEventSchema>;
export type WorkflowEventType = WorkflowEvent["type"];
export type EventOf<T extends WorkflowEventType> = Extract<WorkflowEvent, { type: T }>;

/** Event without the fields the runner stamps on every event. */
export type EventBody = WorkflowEvent extends infer E ? (E extends WorkflowEvent ? Omit<E, "workflowRunId" | "workflowKey" | "seq" | "at"> : never) : never;

/**
 * Events after which a run is finished, unless it is resumed later (`run.resumed` then follows in the
 * same log): a live stream ends at one only when it is the run's last event.
 */
export const terminalEventTypes: ReadonlySet<WorkflowEventType> = new Set(["run.completed", "run.failed", "run.cancelled", "run.interrupted"]);
export const isTerminalEvent = (e: Pick<WorkflowEvent, "type">): boolean => terminalEventTypes.has(e.type);
