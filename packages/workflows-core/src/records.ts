import { createHash } from "node:crypto";
import { z } from "zod";
import { failureSchema } from "./events";
import { runStatusSchema, stepStatusSchema } from "./statuses";
import { usageSchema } from "./usage";

/** A run as stored and as the API returns it. Dates are ISO strings. */
export const runRecordSchema = z.object({
  id: z.string(),
  workflowKey: z.string(),
  versionHash: z.string(),
  status: runStatusSchema,
  input: z.string(),
  finalOutput: z.string().nullable(),
  structuredOutput: z.unknown().nullable(),
  error: failureSchema.nullable(),
  conversationId: z.string().nullable(),
  idempotencyKey: z.string().nullable(),
  /** Who started the run: an API key's name, `local` without keys; null for runs recorded before audit existed. */
  createdBy: z.string().nullable(),
  usage: usageSchema,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** Highest event seq stored for this run. */
  lastSeq: z.number().int().nonnegative(),
  /** W3C trace id of the run's trace (32 hex digits); null for runs recorded before traces existed. */
  traceId: z.string().nullable(),
  /** The run whose sub-workflow step started this run; null for a top-level run. */
  parentRunId: z.string().nullable(),
  /** The index of that step in the parent run; null for a top-level run. */
  parentStepIndex: z.number().int().nonnegative().nullable(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

export const stepRecordSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  agentKey: z.string(),
  /** The parallel stage or loop the step belongs to; null at the top level. */
  stage: z.string().nullable(),
  /** The loop pass (1-based) of a step inside a loop; null elsewhere. */
  iteration: z.number().int().positive().nullable(),
  status: stepStatusSchema,
  input: z.string().nullable(),
  output: z.string().nullable(),
  structuredOutput: z.unknown().nullable(),
  error: failureSchema.nullable(),
  /** Why a step was skipped (its guard was false). */
  skipReason: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  usage: usageSchema,
  responseId: z.string().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type StepRecord = z.infer<typeof stepRecordSchema>;

export const spanKindSchema = z.enum(["task", "turn", "agent", "generation", "response", "function", "handoff", "guardrail", "custom", "other"]);
export type SpanKind = z.infer<typeof spanKindSchema>;

export const spanRecordSchema = z.object({
  workflowRunId: z.string(),
  stepIndex: z.number().int().nonnegative().nullable(),
  traceId: z.string(),
  spanId: z.string(),
  parentId: z.string().nullable(),
  kind: spanKindSchema,
  name: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  error: z.string().nullable(),
  /** A small, size-capped subset of the span's data. */
  data: z.record(z.string(), z.unknown()),
});
export type SpanRecord = z.infer<typeof spanRecordSchema>;

export type NewRun = {
  id: string;
  workflowKey: string;
  versionHash: string;
  input: string;
  conversationId?: string | null;
  idempotencyKey?: string | null;
  createdBy?: string | null;
  /** `fingerprintOf(workflowKey, input)`: a reused idempotency key must come with the same workflow and input. */
  fingerprint?: string | null;
  traceId?: string | null;
  /** A sub-workflow's run: its parent run and the parent's step index. */
  parentRunId?: string | null;
  parentStepIndex?: number | null;
};

/** Identifies what a run was asked to do, to tell a retried request from a different one under the same idempotency key. */
export function fingerprintOf(workflowKey: string, input: string): string {
  return createHash("sha256").update(workflowKey).update("\0").update(input).digest("hex");
}
