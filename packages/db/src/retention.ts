// Deleting finished runs: one on request (`runs.delete`), or every run finished before a cutoff (retention,
// `pnpm db:prune`). A run goes with every row keyed by it, in small transactions so that no writer waits long.
import { terminalRunStatuses, type RunStatus } from "@workflows/core";
import { Prisma, type PrismaClient } from "./client";
import type { DatabaseKind } from "./database";
import { exclusive } from "./exclusive";

/** Rows deleted (or, in a dry run, that would be). */
export type DeletedCounts = { runs: number; steps: number; events: number; spans: number };

export type DeleteRunResult =
  | { status: "deleted"; deleted: DeletedCounts }
  | { status: "not_found" }
  /** The run is pending, running or waiting: only finished runs are deleted. */
  | { status: "not_finished"; runStatus: RunStatus }
  /** A sub-workflow run goes with its parent, never alone. */
  | { status: "sub_workflow"; parentRunId: string };

export type PruneOptions = {
  /** Runs that finished before this instant go. */
  before: Date;
  /** Runs per transaction (default 100): bounds how long one transaction holds SQLite's write lock. */
  batchSize?: number;
  /** Count what would go, delete nothing. */
  dryRun?: boolean;
  /** Stops between batches. */
  signal?: AbortSignal;
};

export type PruneResult = { deleted: DeletedCounts; batches: number; dryRun: boolean };

type Db = { prisma: PrismaClient; kind: DatabaseKind };

// An explicit list, not "not running": a status added later (awaiting approval, ...) is kept until it is listed.
const finished = Prisma.join([...terminalRunStatuses]);
const none = (): DeletedCounts => ({ runs: 0, steps: 0, events: 0, spans: 0 });
const add = (a: DeletedCounts, b: DeletedCounts): DeletedCounts => ({ runs: a.runs + b.runs, steps: a.steps + b.steps, events: a.events + b.events, spans: a.spans + b.spans });

/**
 * Top-level runs finished before `before` (their sub-workflow runs go with them, see `withDescendants`).
 * `createdAt` bounds the scan on the (status, createdAt) index: a run is created before it ends. A finished
 * run without `endedAt` counts from its creation.
 */
const finishedBefore = (before: Date) => Prisma.sql`"status" IN (${finished}) AND "parentRunId" IS NULL AND "createdAt" < ${before} AND COALESCE("endedAt", "createdAt") < ${before}`;

/**
 * The ids `runs` selects and those of every run below them (sub-workflow runs, theirs, …): a run is deleted
 * with its children, so no parent loses a child it shows and no child outlives its parent.
 */
const withDescendants = (runs: Prisma.Sql) =>
  Prisma.sql`WITH RECURSIVE "tree"("id") AS (${runs} UNION SELECT "r"."id" FROM "WorkflowRun" "r" JOIN "tree" "t" ON "r"."parentRunId" = "t"."id") SELECT "id" FROM "tree"`;

/** Counts are of events and spans, however stored: here, the events in the packs and chunks of `runs` and the spans in their packs (runPacks.ts). */
type PackedRow = { events: bigint | number | null; spans: bigint | number | null };
const packedCounts = (runs: Prisma.Sql) =>
  Prisma.sql`SELECT (SELECT COALESCE(SUM("lastSeq" - "firstSeq" + 1), 0) FROM "WorkflowRunPack" WHERE "runId" IN (${runs})) + (SELECT COALESCE(SUM("lastSeq" - "firstSeq" + 1), 0) FROM "WorkflowRunEventChunk" WHERE "runId" IN (${runs})) AS "events", (SELECT COALESCE(SUM("spanCount"), 0) FROM "WorkflowRunPack" WHERE "runId" IN (${runs})) AS "spans"`;
const packed = (rows: PackedRow[]) => ({ events: Number(rows[0]?.events ?? 0), spans: Number(rows[0]?.spans ?? 0) });

/** The rows of `runs` (their ids) and of every table keyed by run. */
async function deleteRows(tx: Pick<PrismaClient, "$executeRaw" | "$queryRaw">, runs: Prisma.Sql): Promise<DeletedCounts> {
  // Children first and each on its own, so the counts say what went (a cascade would hide them).
  // Approvals of paused steps (a finished run's are all decided); not counted yet.
  await tx.$executeRaw`DELETE FROM "WorkflowRunApproval" WHERE "runId" IN (${runs})`;
  const inPacks = packed(await tx.$queryRaw<PackedRow[]>(packedCounts(runs)));
  await tx.$executeRaw`DELETE FROM "WorkflowRunPack" WHERE "runId" IN (${runs})`;
  const spans = inPacks.spans + (await tx.$executeRaw`DELETE FROM "TraceSpan" WHERE "runId" IN (${runs})`);
  await tx.$executeRaw`DELETE FROM "WorkflowRunEventChunk" WHERE "runId" IN (${runs})`;
  const steps = await tx.$executeRaw`DELETE FROM "WorkflowRunStep" WHERE "runId" IN (${runs})`;
  const deleted = await tx.$executeRaw`DELETE FROM "WorkflowRun" WHERE "id" IN (${runs})`;
  return { runs: deleted, steps, events: inPacks.events, spans };
}

/**
 * SQLite: one batch transaction whose first statement is a write, so it holds the write lock from its start
 * and every statement sees the same runs. Each statement re-checks the runs' status and age: a run resumed
 * since it was chosen stays.
 */
async function deleteSqlite(prisma: PrismaClient, ids: string[], guard: Prisma.Sql): Promise<DeletedCounts> {
  const runs = withDescendants(Prisma.sql`SELECT "id" FROM "WorkflowRun" WHERE "id" IN (${Prisma.join(ids)}) AND ${guard}`);
  const [, inPacks, , spans, , steps, deleted] = await prisma.$transaction([
    prisma.$executeRaw`DELETE FROM "WorkflowRunApproval" WHERE "runId" IN (${runs})`,
    prisma.$queryRaw<PackedRow[]>(packedCounts(runs)),
    prisma.$executeRaw`DELETE FROM "WorkflowRunPack" WHERE "runId" IN (${runs})`,
    prisma.$executeRaw`DELETE FROM "TraceSpan" WHERE "runId" IN (${runs})`,
    prisma.$executeRaw`DELETE FROM "WorkflowRunEventChunk" WHERE "runId" IN (${runs})`,
    prisma.$executeRaw`DELETE FROM "WorkflowRunStep" WHERE "runId" IN (${runs})`,
    prisma.$executeRaw`DELETE FROM "WorkflowRun" WHERE "id" IN (${runs})`,
  ]);
  return { runs: deleted, steps, events: packed(inPacks).events, spans: spans + packed(inPacks).spans };
}

/**
 * PostgreSQL: the runs are locked first (`FOR UPDATE`), so a resume waits for the delete (then finds no run)
 * and another sweeper skips them (`SKIP LOCKED`): two sweepers never delete, or count, the same run.
 */
async function deletePostgres(prisma: PrismaClient, select: Prisma.Sql): Promise<{ ids: string[]; deleted: DeletedCounts }> {
  return await prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: string }[]>(select);
    if (rows.length === 0) return { ids: [], deleted: none() };
    const ids = rows.map((r) => r.id);
    return { ids, deleted: await deleteRows(tx, withDescendants(Prisma.sql`SELECT "id" FROM "WorkflowRun" WHERE "id" IN (${Prisma.join(ids)})`)) };
  });
}

/** Deletes one finished run with its steps, events and spans, and its sub-workflow runs with theirs. */
export async function deleteRun(db: Db, id: string): Promise<DeleteRunResult> {
  const parent = await exclusive(db.prisma, () => db.prisma.workflowRun.findUnique({ where: { id }, select: { parentRunId: true } }));
  if (parent?.parentRunId) return { status: "sub_workflow", parentRunId: parent.parentRunId };
  const guard = Prisma.sql`"status" IN (${finished})`;
  let deleted: DeletedCounts;
  if (db.kind === "postgres") {
    ({ deleted } = await deletePostgres(db.prisma, Prisma.sql`SELECT "id" FROM "WorkflowRun" WHERE "id" = ${id} AND ${guard} FOR UPDATE`));
  } else {
    deleted = await exclusive(db.prisma, () => deleteSqlite(db.prisma, [id], guard));
  }
  if (deleted.runs > 0) return { status: "deleted", deleted };
  const row = await exclusive(db.prisma, () => db.prisma.workflowRun.findUnique({ where: { id }, select: { status: true } }));
  if (!row) return { status: "not_found" };
  // Finished meanwhile (between the delete and this read): the caller may ask again.
  return { status: "not_finished", runStatus: row.status as RunStatus };
}

/** Counts what a prune would delete. */
async function countFinishedBefore(db: Db, before: Date): Promise<DeletedCounts> {
  const runs = withDescendants(Prisma.sql`SELECT "id" FROM "WorkflowRun" WHERE ${finishedBefore(before)}`);
  const rows = await exclusive(db.prisma, () =>
    db.prisma.$queryRaw<{ runs: bigint | number; steps: bigint | number; events: bigint | number; spans: bigint | number }[]>`SELECT
      (SELECT COUNT(*) FROM "WorkflowRun" WHERE "id" IN (${runs})) AS "runs",
      (SELECT COUNT(*) FROM "WorkflowRunStep" WHERE "runId" IN (${runs})) AS "steps",
      (SELECT COALESCE(SUM("lastSeq" - "firstSeq" + 1), 0) FROM "WorkflowRunEventChunk" WHERE "runId" IN (${runs})) + (SELECT COALESCE(SUM("lastSeq" - "firstSeq" + 1), 0) FROM "WorkflowRunPack" WHERE "runId" IN (${runs})) AS "events",
      (SELECT COUNT(*) FROM "TraceSpan" WHERE "runId" IN (${runs})) + (SELECT COALESCE(SUM("spanCount"), 0) FROM "WorkflowRunPack" WHERE "runId" IN (${runs})) AS "spans"`,
  );
  const row = rows[0];
  return row ? { runs: Number(row.runs), steps: Number(row.steps), events: Number(row.events), spans: Number(row.spans) } : none();
}

/**
 * Deletes every run that finished before `opts.before` (terminal statuses only), with its rows, `batchSize`
 * runs per transaction. Safe beside running servers and beside another prune on the same database.
 */
export async function pruneRuns(db: Db, opts: PruneOptions): Promise<PruneResult> {
  if (opts.dryRun) return { deleted: await countFinishedBefore(db, opts.before), batches: 0, dryRun: true };
  const batchSize = Math.max(1, Math.min(1_000, Math.trunc(opts.batchSize ?? 100)));
  let total = none();
  let batches = 0;
  for (;;) {
    if (opts.signal?.aborted) break;
    let deleted: DeletedCounts;
    if (db.kind === "postgres") {
      const select = Prisma.sql`SELECT "id" FROM "WorkflowRun" WHERE ${finishedBefore(opts.before)} ORDER BY "createdAt" LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`;
      const batch = await deletePostgres(db.prisma, select);
      if (batch.ids.length === 0) break;
      deleted = batch.deleted;
    } else {
      const chosen = await exclusive(db.prisma, () =>
        db.prisma.$queryRaw<{ id: string }[]>`SELECT "id" FROM "WorkflowRun" WHERE ${finishedBefore(opts.before)} ORDER BY "createdAt" LIMIT ${batchSize}`,
      );
      if (chosen.length === 0) break;
      deleted = await exclusive(db.prisma, () =>
        deleteSqlite(
          db.prisma,
          chosen.map((r) => r.id),
          finishedBefore(opts.before),
        ),
      );
    }
    total = add(total, deleted);
    batches++;
    // Let other writers in between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { deleted: total, batches, dryRun: false };
}
