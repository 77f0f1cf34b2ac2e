// Turns a batch of validated events and spans into the few statements of one transaction. Pure.
import { applyToSteps, projectEvent, type SpanRecord, type StepRecord, type WorkflowEvent } from "@workflows/core";
import type { Prisma } from "./generated/client";
import { eventCreateData, runPatchData, spanCreateData, stepCreateData, stepPatchData, type RunColumns, type StepColumns } from "./mapping";
import { insertEvents, insertSpans, insertSteps, updateRun, updateStep, updateStepsWithStatus } from "./sql";

export type BatchPlan = {
  /** One guarded UPDATE per touched run: each must affect exactly one row, else the run moved under us. */
  runUpdates: { runId: string; sql: Prisma.Sql }[];
  /** The rest, in order: step inserts and updates, then the event and span inserts. */
  statements: Prisma.Sql[];
  /** Each touched run's lastSeq after the batch. */
  lastSeq: Map<string, number>;
};

type IndexEntry = { kind: "index"; runId: string; index: number; columns: StepColumns };
type StepEntry = { kind: "insert"; rows: { runId: string; step: StepRecord }[] } | IndexEntry | { kind: "status"; runId: string; whereStatus: string[]; columns: StepColumns };

/**
 * `before` holds, per run with events in the batch, the lastSeq the batch builds on (events are already
 * validated: gap-free per run, in order).
 *
 * Step changes are merged without changing their outcome: steps of a run created in this batch are
 * inserted with the batch's later updates already applied (exactly as the in-memory recorder applies
 * them); updates of one step of an older run are merged into one UPDATE per (run, index) in order; an
 * update by status is its own statement and ends the merging of that run's earlier index updates.
 */
export function planBatch(events: readonly WorkflowEvent[], spans: readonly SpanRecord[], before: ReadonlyMap<string, number>): BatchPlan {
  const runColumns = new Map<string, RunColumns>();
  const entries: StepEntry[] = [];
  /** Step rows created in this batch, per run: later updates apply to them in memory. */
  const created = new Map<string, StepRecord[]>();
  /** Index updates still open for merging, per run and index. */
  const open = new Map<string, Map<number, IndexEntry>>();

  for (const event of events) {
    const runId = event.workflowRunId;
    const projection = projectEvent(event);
    runColumns.set(runId, Object.assign(runColumns.get(runId) ?? {}, runPatchData(projection.run)));
    if (projection.createSteps.length > 0) {
      open.delete(runId);
      const last = entries.at(-1);
      const group = last?.kind === "insert" ? last : { kind: "insert" as const, rows: [] };
      if (group !== last) entries.push(group);
      for (const step of projection.createSteps) group.rows.push({ runId, step });
      created.set(runId, [...(created.get(runId) ?? []), ...projection.createSteps]);
    }
    for (const update of projection.updateSteps) {
      const rows = created.get(runId);
      if (rows) {
        applyToSteps(rows, { run: {}, createSteps: [], updateSteps: [update] });
      } else if ("index" in update) {
        let byIndex = open.get(runId);
        if (!byIndex) open.set(runId, (byIndex = new Map<number, IndexEntry>()));
        const entry = byIndex.get(update.index);
        if (entry) Object.assign(entry.columns, stepPatchData(update.patch));
        else {
          const fresh: IndexEntry = { kind: "index", runId, index: update.index, columns: stepPatchData(update.patch) };
          entries.push(fresh);
          byIndex.set(update.index, fresh);
        }
      } else {
        entries.push({ kind: "status", runId, whereStatus: update.whereStatus, columns: stepPatchData(update.patch) });
        open.delete(runId);
      }
    }
  }

  const runUpdates: BatchPlan["runUpdates"] = [];
  const lastSeq = new Map<string, number>();
  for (const [runId, columns] of runColumns) {
    runUpdates.push({ runId, sql: updateRun(runId, before.get(runId) ?? 0, columns) });
    if (columns.lastSeq !== undefined) lastSeq.set(runId, columns.lastSeq);
  }
  const statements: Prisma.Sql[] = [];
  for (const entry of entries) {
    const sql =
      entry.kind === "insert"
        ? insertSteps(entry.rows.map((r) => stepCreateData(r.runId, r.step)))
        : entry.kind === "index"
          ? updateStep(entry.runId, entry.index, entry.columns)
          : updateStepsWithStatus(entry.runId, entry.whereStatus, entry.columns);
    if (sql) statements.push(sql);
  }
  if (events.length > 0) statements.push(insertEvents(events.map(eventCreateData)));
  if (spans.length > 0) statements.push(insertSpans(spans.map(spanCreateData)));
  return { runUpdates, statements, lastSeq };
}
