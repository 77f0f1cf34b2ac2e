import { InvalidInputError, runStatusSchema, type RunRecord, type RunStatus, type SpanRecord, type StepRecord, type WorkflowEvent } from "@workflows/core";
import { z } from "zod";
import { poolOf } from "./database";
import { mergeEvents, mergeSpans } from "./runPacks";
import { exclusive } from "./exclusive";
import type { Prisma, PrismaClient, WorkflowRun } from "./client";
import { eventFrom, runRecordOf, spanRecordOf, stepRecordOf } from "./mapping";
import { sqliteConnectionsOf, type SqliteRunReader } from "./sqliteConnections";

// On a SQLite database opened by `openDatabase` the run reads below go to a connection of their own
// (sqliteConnections.ts): no Prisma pipeline, and no wait behind the mutex of Prisma's one connection.

export type ListRunsOptions = {
  workflowKey?: string;
  status?: RunStatus;
  /** Only runs started by this API key name (or `local`). */
  createdBy?: string;
  /**
   * Which runs by parent: `top` (default) only runs no sub-workflow step started; `all` sub-workflow runs
   * too; a run id: the runs that run's sub-workflow steps started.
   */
  parent?: "top" | "all" | { workflowRunId: string };
  /** Default 20, at most 100. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string | null;
};
export type RunPage = { items: RunRecord[]; nextCursor: string | null };

const cursorSchema = z.object({ createdAt: z.iso.datetime(), id: z.string() });

function encodeCursor(run: RunRecord): string {
  return Buffer.from(JSON.stringify({ createdAt: run.createdAt, id: run.id })).toString("base64url");
}
function decodeCursor(cursor: string): z.infer<typeof cursorSchema> {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw new InvalidInputError("The cursor is not one this server gave out.");
  }
}

/** Runs newest first; the cursor (createdAt, id) stays stable while new runs are added. */
export async function listRuns(prisma: PrismaClient, options: ListRunsOptions = {}): Promise<RunPage> {
  const limit = Math.min(100, Math.max(1, Math.trunc(options.limit ?? 20)));
  const where: Prisma.WorkflowRunWhereInput = {};
  if (options.workflowKey !== undefined) where.workflowKey = options.workflowKey;
  if (options.createdBy !== undefined) where.createdBy = options.createdBy;
  const parent = options.parent ?? "top";
  if (parent === "top") where.parentRunId = null;
  else if (parent !== "all") where.parentRunId = parent.workflowRunId;
  if (options.status !== undefined) where.status = runStatusSchema.parse(options.status);
  if (options.cursor) {
    const after = decodeCursor(options.cursor);
    const createdAt = new Date(after.createdAt);
    where.OR = [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: after.id } }];
  }
  return await exclusive(prisma, async () => {
    const rows = await prisma.workflowRun.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: limit + 1 });
    const items = rows.slice(0, limit).map(runRecordOf);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  });
}

/** A run with its steps in index order, or null. */
export function getRun(prisma: PrismaClient, id: string): Promise<{ run: RunRecord; steps: StepRecord[] } | null> {
  const reader = sqliteConnectionsOf(prisma)?.reader;
  if (reader) {
    return attempt(() => {
      const found = reader.runWithSteps(id);
      return found ? { run: runRecordOf(found.run), steps: found.steps.map(stepRecordOf) } : null;
    });
  }
  return exclusive(prisma, async () => {
    const row = await prisma.workflowRun.findUnique({ where: { id }, include: { steps: { orderBy: { index: "asc" } } } });
    if (!row) return null;
    return { run: runRecordOf(row), steps: row.steps.map(stepRecordOf) };
  });
}

/** The run alone (status, lastSeq, …): one read, for callers that need no steps. */
export function getRunRecord(prisma: PrismaClient, id: string): Promise<RunRecord | null> {
  return oneRun(prisma, (reader) => reader.run(id), { id });
}

/** One run row by a unique key: on SQLite's reader connection when there is one, else through Prisma. */
function oneRun(prisma: PrismaClient, fromReader: (reader: SqliteRunReader) => WorkflowRun | null, where: Prisma.WorkflowRunWhereUniqueInput): Promise<RunRecord | null> {
  const reader = sqliteConnectionsOf(prisma)?.reader;
  if (reader) {
    return attempt(() => {
      const row = fromReader(reader);
      return row ? runRecordOf(row) : null;
    });
  }
  return exclusive(prisma, async () => {
    const row = await prisma.workflowRun.findUnique({ where });
    return row ? runRecordOf(row) : null;
  });
}

/** The runs a run's sub-workflow steps started, by step index (loop passes in order). */
export function listChildRuns(prisma: PrismaClient, parentRunId: string): Promise<RunRecord[]> {
  return exclusive(prisma, async () => {
    const rows = await prisma.workflowRun.findMany({ where: { parentRunId }, orderBy: [{ parentStepIndex: "asc" }, { createdAt: "asc" }] });
    return rows.map(runRecordOf);
  });
}

/** Ids of the `pending` or `running` runs below these runs (children, their children, …), parents first. */
export async function unfinishedDescendants(prisma: PrismaClient, parentIds: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  let level = [...parentIds];
  while (level.length > 0) {
    const ids = level;
    const rows = await exclusive(prisma, () => prisma.workflowRun.findMany({ where: { parentRunId: { in: ids }, status: { in: ["pending", "running"] } }, select: { id: true }, orderBy: { createdAt: "asc" } }));
    level = rows.map((r) => r.id).filter((id) => !found.includes(id));
    found.push(...level);
  }
  return found;
}

export type ListEventsOptions = {
  /** Only events with a greater seq. */
  afterSeq?: number;
  /** Default and maximum 1000. */
  limit?: number;
};

/** A run's events in seq order, exactly as they were appended (whether still chunks or packed: runPacks.ts). */
export function listEvents(prisma: PrismaClient, runId: string, options: ListEventsOptions = {}): Promise<WorkflowEvent[]> {
  const limit = Math.min(1000, Math.max(1, Math.trunc(options.limit ?? 1000)));
  const afterSeq = options.afterSeq ?? 0;
  const reader = sqliteConnectionsOf(prisma)?.reader;
  if (reader) return attempt(() => reader.events(runId, afterSeq, limit).map(eventFrom));
  return exclusive(prisma, async () => {
    // One snapshot: a pack made between two separate reads would hide its events from both.
    const [chunks, packs] = await prisma.$transaction(
      [
        prisma.workflowRunEventChunk.findMany({ where: { runId, lastSeq: { gt: afterSeq } }, orderBy: { lastSeq: "asc" }, take: limit, select: { firstSeq: true, lastSeq: true, events: true } }),
        prisma.workflowRunPack.findMany({ where: { runId, lastSeq: { gt: afterSeq } }, orderBy: { lastSeq: "asc" }, select: { firstSeq: true, events: true } }),
      ],
      oneSnapshot(prisma),
    );
    return mergeEvents(chunks, packs, afterSeq, limit).map(eventFrom);
  });
}

/** The stored lastSeq of each of these runs that exists (one query per 500 ids). */
export function runLastSeqs(prisma: PrismaClient, ids: readonly string[]): Promise<Map<string, number>> {
  return exclusive(prisma, async () => {
    const found = new Map<string, number>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await prisma.workflowRun.findMany({ where: { id: { in: ids.slice(i, i + 500) } }, select: { id: true, lastSeq: true } });
      for (const row of rows) found.set(row.id, row.lastSeq);
    }
    return found;
  });
}

/** A run's trace spans in the order they were recorded. */
export function listSpans(prisma: PrismaClient, runId: string): Promise<SpanRecord[]> {
  const reader = sqliteConnectionsOf(prisma)?.reader;
  if (reader) return attempt(() => reader.spans(runId).map(spanRecordOf));
  return exclusive(prisma, async () => {
    const [packs, rows] = await prisma.$transaction(
      [prisma.workflowRunPack.findMany({ where: { runId }, orderBy: { lastSeq: "asc" }, select: { spans: true } }), prisma.traceSpan.findMany({ where: { runId }, orderBy: { id: "asc" } })],
      oneSnapshot(prisma),
    );
    return mergeSpans(runId, packs, rows).map(spanRecordOf);
  });
}

export function findRunByIdempotencyKey(prisma: PrismaClient, idempotencyKey: string): Promise<RunRecord | null> {
  return oneRun(prisma, (reader) => reader.runByIdempotencyKey(idempotencyKey), { idempotencyKey });
}

/**
 * Options of a batch transaction whose reads all see one snapshot: PostgreSQL's default, Read Committed, takes
 * one per statement, so a run packed between two reads would hide its rows from both. (The client is typed as
 * SQLite's, which knows Serializable only.)
 */
function oneSnapshot(prisma: PrismaClient): { isolationLevel?: "Serializable" } | undefined {
  return (poolOf(prisma) ? { isolationLevel: "RepeatableRead" } : undefined) as { isolationLevel?: "Serializable" } | undefined;
}

/** A synchronous read as a promise that rejects (never throws) on failure, as the Prisma reads do. */
function attempt<T>(read: () => T): Promise<T> {
  try {
    return Promise.resolve(read());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
