// Turns a batch of validated events and spans into the few statements of one transaction. Pure.
import { applyToSteps, projectEvent, type SpanRecord, type StepRecord, type WorkflowEvent } from "@workflows/core";
import type { Prisma } from "./client";
import { chunkRows, runPatchData, spanCreateData, stepCreateData, stepPatchData, type RunColumns, type StepColumns, type StepRow } from "./mapping";
import { insertChunks, insertSpans, insertSteps, updateRun, updateStep, updateStepsWithStatus, upsertSteps } from "./sql";

export type BatchPlan = {
  /** One guarded UPDATE per touched run: each must affect exactly one row, else the run moved under us. */
  runUpdates: { runId: string; sql: Prisma.Sql }[];
  /** The rest, in order: step inserts and updates, then the event chunk (one per run) and span inserts. */
  statements: Prisma.Sql[];
  /** Each touched run's lastSeq after the batch. */
  lastSeq: Map<string, number>;
  /** After commit, the complete step rows of the runs whose rows the batch wrote whole. */
  steps: Map<string, StepRecord[]>;
};

type IndexEntry = { kind: "index"; runId: string; index: number; columns: StepColumns };
type StepEntry = { kind: "insert"; rows: { runId: string; step: StepRecord }[] } | IndexEntry | { kind: "status"; runId: string; whereStatus: string[]; fromIndex: number; columns: StepColumns };

/**
 * `before` holds, per run with events in the batch, the lastSeq the batch builds on (events are already
 * validated: gap-free per run, in order). `knownSteps` holds the stored step rows of runs the caller is
 * sure of (read-only here).
 *
 * Steps of a run whose rows are known (in `knownSteps`, or created by this batch's first event at seq 1)
 * are projected in memory exactly as the in-memory recorder does, and every row the batch touched is
 * written whole by ONE upsert for the batch. Steps of other runs are changed by statements, merged
 * without changing their outcome: updates of one step are merged into one UPDATE per (run, index) in
 * order; an update by status is its own statement and ends the merging of that run's earlier updates.
 */
export function planBatch(
  events: readonly WorkflowEvent[],
  spans: readonly SpanRecord[],
  before: ReadonlyMap<string, number>,
  knownSteps: ReadonlyMap<string, readonly StepRecord[]> = new Map(),
  /** Written as the run's owner by the events that put a run in someone's hands (`run.started`, `run.resumed`). */
  owner: string | null = null,
): BatchPlan {
  const runColumns = new Map<string, RunColumns>();
  /** Runs written whole: working copies of their rows, and the rows this batch touched. */
  const whole = new Map<string, { rows: StepRecord[]; touched: Set<StepRecord> }>();
  const patched = new Set<string>();
  const entries: StepEntry[] = [];
  /** Step rows created in this batch, per run: later updates apply to them in memory. */
  const created = new Map<string, StepRecord[]>();
  /** Index updates still open for merging, per run and index. */
  const open = new Map<string, Map<number, IndexEntry>>();

  for (const event of events) {
    const runId = event.workflowRunId;
    const projection = projectEvent(event);
    const columns = Object.assign(runColumns.get(runId) ?? {}, runPatchData(projection.run));
    if (owner !== null && (event.type === "run.started" || event.type === "run.resumed")) columns.owner = owner;
    runColumns.set(runId, columns);
    let state = whole.get(runId);
    if (!state && !patched.has(runId)) {
      const known = knownSteps.get(runId);
      // Row objects are copied: the caller's rows change only once the batch committed.
      if (known) state = { rows: known.map((row) => ({ ...row })), touched: new Set() };
      else if (event.seq === 1) state = { rows: [], touched: new Set() };
      if (state) whole.set(runId, state);
      else patched.add(runId);
    }
    if (state) {
      applyToSteps(state.rows, projection, state.touched);
      continue;
    }
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
        entries.push({ kind: "status", runId, whereStatus: update.whereStatus, fromIndex: update.fromIndex ?? 0, columns: stepPatchData(update.patch) });
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
  // Runs are either written whole or patched, never both in one batch: the two sets of statements touch
  // different rows, so their order does not matter.
  const statements: Prisma.Sql[] = [];
  const steps = new Map<string, StepRecord[]>();
  const wholeRows: StepRow[] = [];
  for (const [runId, state] of whole) {
    steps.set(runId, state.rows);
    for (const row of state.rows) if (state.touched.has(row)) wholeRows.push(stepCreateData(runId, row));
  }
  if (wholeRows.length > 0) statements.push(...upsertSteps(wholeRows));
  for (const entry of entries) {
    if (entry.kind === "insert") {
      statements.push(...insertSteps(entry.rows.map((r) => stepCreateData(r.runId, r.step))));
      continue;
    }
    const sql = entry.kind === "index" ? updateStep(entry.runId, entry.index, entry.columns) : updateStepsWithStatus(entry.runId, entry.whereStatus, entry.columns, entry.fromIndex);
    if (sql) statements.push(sql);
  }
  statements.push(...insertChunks(chunkRows(events)), ...insertSpans(spans.map(spanCreateData)));
  return { runUpdates, statements, lastSeq, steps };
}
