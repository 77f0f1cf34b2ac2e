// Conversions between core's records (ISO strings, nested objects) and rows (Dates, flat columns, JSON text).
import {
  failureSchema,
  runStatusSchema,
  spanKindSchema,
  stepStatusSchema,
  workflowEventSchema,
  type Failure,
  type RunPatch,
  type RunRecord,
  type SpanRecord,
  type StepPatch,
  type StepRecord,
  type Usage,
  type WorkflowEvent,
} from "@workflows/core";
import { z } from "zod";
import type { ConversationItem, TraceSpan, WorkflowRun, WorkflowRunEventChunk, WorkflowRunStep } from "./client";

/** Column values of a run update; absent keys stay untouched. Plain values, written by the SQL in sql.ts. */
export type RunColumns = Partial<Omit<WorkflowRun, "id" | "workflowKey" | "input" | "conversationId" | "idempotencyKey" | "idempotencyFingerprint" | "traceId" | "createdBy" | "createdAt" | "parentRunId" | "parentStepIndex">>;
export type StepColumns = Partial<Omit<WorkflowRunStep, "runId" | "index">>;
export type StepRow = WorkflowRunStep;
export type ChunkRow = WorkflowRunEventChunk;
export type SpanRow = Omit<TraceSpan, "id">;
export type RunRow = WorkflowRun;
export type ConversationItemRow = Omit<ConversationItem, "id">;

export const toDate = (iso: string): Date => new Date(iso);
const toDateOrNull = (iso: string | null): Date | null => (iso === null ? null : new Date(iso));
const toIso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

/** JSON text for a nullable JSON value; `undefined` is stored as NULL like `null`. */
export function jsonText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return JSON.stringify(value);
}
const parseJson = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

function errorColumns(error: Failure | null | undefined): { errorCode: string | null; errorMessage: string | null } {
  return { errorCode: error?.code ?? null, errorMessage: error?.message ?? null };
}
function errorOf(row: { errorCode: string | null; errorMessage: string | null }): Failure | null {
  if (row.errorCode === null) return null;
  return failureSchema.parse({ code: row.errorCode, message: row.errorMessage ?? "" });
}
const usageColumns = (u: Usage) => ({ requests: u.requests, inputTokens: u.inputTokens, outputTokens: u.outputTokens, totalTokens: u.totalTokens });
const usageOf = (row: Usage): Usage => ({ requests: row.requests, inputTokens: row.inputTokens, outputTokens: row.outputTokens, totalTokens: row.totalTokens });

/** Turns a projection's run patch into column updates; keys absent from the patch stay untouched. */
export function runPatchData(patch: RunPatch): RunColumns {
  const data: RunColumns = {};
  if (patch.status !== undefined) data.status = patch.status;
  if (patch.finalOutput !== undefined) data.finalOutput = patch.finalOutput;
  if ("structuredOutput" in patch) data.structuredOutput = jsonText(patch.structuredOutput);
  if (patch.error !== undefined) Object.assign(data, errorColumns(patch.error));
  if (patch.usage !== undefined) Object.assign(data, usageColumns(patch.usage));
  if (patch.startedAt !== undefined) data.startedAt = toDateOrNull(patch.startedAt);
  if (patch.endedAt !== undefined) data.endedAt = toDateOrNull(patch.endedAt);
  if (patch.lastSeq !== undefined) data.lastSeq = patch.lastSeq;
  if (patch.versionHash !== undefined) data.versionHash = patch.versionHash;
  return data;
}

export function stepPatchData(patch: StepPatch): StepColumns {
  const data: StepColumns = {};
  if (patch.name !== undefined) data.name = patch.name;
  if (patch.agentKey !== undefined) data.agentKey = patch.agentKey;
  if (patch.status !== undefined) data.status = patch.status;
  if (patch.input !== undefined) data.input = patch.input;
  if (patch.output !== undefined) data.output = patch.output;
  if ("structuredOutput" in patch) data.structuredOutput = jsonText(patch.structuredOutput);
  if (patch.error !== undefined) Object.assign(data, errorColumns(patch.error));
  if (patch.skipReason !== undefined) data.skipReason = patch.skipReason;
  if (patch.attempts !== undefined) data.attempts = patch.attempts;
  if (patch.usage !== undefined) Object.assign(data, usageColumns(patch.usage));
  if (patch.responseId !== undefined) data.responseId = patch.responseId;
  if (patch.startedAt !== undefined) data.startedAt = toDateOrNull(patch.startedAt);
  if (patch.endedAt !== undefined) data.endedAt = toDateOrNull(patch.endedAt);
  return data;
}

export function stepCreateData(runId: string, step: StepRecord): StepRow {
  return {
    runId,
    index: step.index,
    name: step.name,
    agentKey: step.agentKey,
    stage: step.stage,
    iteration: step.iteration,
    status: step.status,
    input: step.input,
    output: step.output,
    structuredOutput: jsonText(step.structuredOutput),
    ...errorColumns(step.error),
    skipReason: step.skipReason,
    attempts: step.attempts,
    ...usageColumns(step.usage),
    responseId: step.responseId,
    startedAt: toDateOrNull(step.startedAt),
    endedAt: toDateOrNull(step.endedAt),
  };
}

/**
 * A batch's events as chunk rows: one per run, holding that run's events of the batch (gap-free and in
 * order, as the recorder validated them) as one JSON array text.
 */
export function chunkRows(events: readonly WorkflowEvent[]): ChunkRow[] {
  const byRun = new Map<string, { first: WorkflowEvent; last: WorkflowEvent; texts: string[] }>();
  for (const event of events) {
    const chunk = byRun.get(event.workflowRunId);
    if (chunk) {
      chunk.last = event;
      chunk.texts.push(JSON.stringify(event));
    } else byRun.set(event.workflowRunId, { first: event, last: event, texts: [JSON.stringify(event)] });
  }
  return [...byRun].map(([runId, { first, last, texts }]) => ({ runId, lastSeq: last.seq, firstSeq: first.seq, events: `[${texts.join(",")}]` }));
}

export function spanCreateData(span: SpanRecord): SpanRow {
  return {
    runId: span.workflowRunId,
    stepIndex: span.stepIndex,
    traceId: span.traceId,
    spanId: span.spanId,
    parentId: span.parentId,
    kind: span.kind,
    name: span.name,
    startedAt: span.startedAt,
    endedAt: span.endedAt,
    error: span.error,
    data: JSON.stringify(span.data),
  };
}

export function runRecordOf(row: WorkflowRun): RunRecord {
  return {
    id: row.id,
    workflowKey: row.workflowKey,
    versionHash: row.versionHash,
    status: runStatusSchema.parse(row.status),
    input: row.input,
    finalOutput: row.finalOutput,
    structuredOutput: parseJson(row.structuredOutput),
    error: errorOf(row),
    conversationId: row.conversationId,
    idempotencyKey: row.idempotencyKey,
    createdBy: row.createdBy,
    usage: usageOf(row),
    createdAt: row.createdAt.toISOString(),
    startedAt: toIso(row.startedAt),
    endedAt: toIso(row.endedAt),
    lastSeq: row.lastSeq,
    traceId: row.traceId,
    parentRunId: row.parentRunId,
    parentStepIndex: row.parentStepIndex,
  };
}

export function stepRecordOf(row: WorkflowRunStep): StepRecord {
  return {
    index: row.index,
    name: row.name,
    agentKey: row.agentKey,
    stage: row.stage,
    iteration: row.iteration,
    status: stepStatusSchema.parse(row.status),
    input: row.input,
    output: row.output,
    structuredOutput: parseJson(row.structuredOutput),
    error: errorOf(row),
    skipReason: row.skipReason,
    attempts: row.attempts,
    usage: usageOf(row),
    responseId: row.responseId,
    startedAt: toIso(row.startedAt),
    endedAt: toIso(row.endedAt),
  };
}

const spanDataSchema = z.record(z.string(), z.unknown());

export function spanRecordOf(row: TraceSpan): SpanRecord {
  return {
    workflowRunId: row.runId,
    stepIndex: row.stepIndex,
    traceId: row.traceId,
    spanId: row.spanId,
    parentId: row.parentId,
    kind: spanKindSchema.parse(row.kind),
    name: row.name,
    startedAt: row.startedAt,
    endedAt: row.endedAt,
    error: row.error,
    data: spanDataSchema.parse(JSON.parse(row.data)),
  };
}

/** A stored event (its parsed JSON), validated. */
export function eventFrom(json: unknown): WorkflowEvent {
  return workflowEventSchema.parse(json);
}
