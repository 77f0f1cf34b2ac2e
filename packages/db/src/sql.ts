// Every SQL statement this package writes by hand: the recorder's hot path. Parameterised through
// Prisma.sql; identifiers double-quoted and standard SQL only, so SQLite and PostgreSQL both accept it.
// Values are plain (string, number, Date, null): Prisma hands a Date to the driver adapter as a DateTime,
// which stores it exactly as the ORM does (SQLite: ISO text "…+00:00"), so ORM reads parse it.
import { Prisma } from "./client";
import type { ChunkRow, ConversationItemRow, RunColumns, RunRow, SpanRow, StepColumns, StepRow } from "./mapping";

type Value = string | number | Date | null;
type Row<T> = { [K in keyof T]: Value };

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Most bound parameters in one statement: SQLite's limit is 32,766, PostgreSQL's 65,535. */
const MAX_PARAMETERS = 30_000;

/** A multi-row INSERT builder for a fixed column list: one statement, or several for a very large batch. */
function inserter<T extends Row<T>>(table: string, columns: readonly (keyof T & string)[], tail: Prisma.Sql = Prisma.empty): (rows: readonly T[]) => Prisma.Sql[] {
  const head = Prisma.raw(`INSERT INTO ${quote(table)} (${columns.map(quote).join(", ")}) VALUES `);
  const perStatement = Math.floor(MAX_PARAMETERS / columns.length);
  return (rows) => {
    const statements: Prisma.Sql[] = [];
    for (let i = 0; i < rows.length; i += perStatement) {
      const values = rows.slice(i, i + perStatement).map((row) => Prisma.sql`(${Prisma.join(columns.map((c) => row[c]))})`);
      statements.push(Prisma.sql`${head}${Prisma.join(values)}${tail}`);
    }
    return statements;
  };
}

/** `"a" = $1, "b" = $2` for the keys present in `data`; null when none is. Keys must be in `allowed`. */
function setList(allowed: ReadonlyMap<string, Prisma.Sql>, data: Record<string, Value | undefined>): Prisma.Sql | null {
  const parts: Prisma.Sql[] = [];
  for (const key in data) {
    const value = data[key];
    if (value === undefined) continue;
    const column = allowed.get(key);
    if (!column) throw new Error(`Unknown column "${key}".`);
    parts.push(Prisma.sql`${column} = ${value}`);
  }
  return parts.length === 0 ? null : Prisma.join(parts, ", ");
}
const columnMap = (names: readonly string[]): ReadonlyMap<string, Prisma.Sql> => new Map(names.map((n) => [n, Prisma.raw(quote(n))]));

const chunkColumns = ["runId", "lastSeq", "firstSeq", "events"] as const satisfies readonly (keyof ChunkRow)[];
const spanColumns = ["runId", "stepIndex", "traceId", "spanId", "parentId", "kind", "name", "startedAt", "endedAt", "error", "data"] as const satisfies readonly (keyof SpanRow)[];
const stepPatchColumns = [
  "name",
  "agentKey",
  "stage",
  "iteration",
  "status",
  "input",
  "output",
  "structuredOutput",
  "errorCode",
  "errorMessage",
  "skipReason",
  "attempts",
  "requests",
  "inputTokens",
  "outputTokens",
  "totalTokens",
  "responseId",
  "startedAt",
  "endedAt",
] as const satisfies readonly (keyof StepColumns)[];
const stepColumns = ["runId", "index", ...stepPatchColumns] as const satisfies readonly (keyof StepRow)[];
const runPatchColumns = [
  "status",
  "finalOutput",
  "structuredOutput",
  "errorCode",
  "errorMessage",
  "requests",
  "inputTokens",
  "outputTokens",
  "totalTokens",
  "lastSeq",
  "startedAt",
  "endedAt",
  "versionHash",
  "owner",
] as const satisfies readonly (keyof RunColumns)[];

// Compile-time check that the lists name every column of their row type.
type Missing<T, L extends readonly unknown[]> = Exclude<keyof T, L[number]>;
const complete: [
  Missing<ChunkRow, typeof chunkColumns>,
  Missing<SpanRow, typeof spanColumns>,
  Missing<StepRow, typeof stepColumns>,
  Missing<StepColumns, typeof stepPatchColumns>,
  Missing<RunColumns, typeof runPatchColumns>,
  Missing<RunRow, typeof runColumns>,
  Missing<ConversationItemRow, typeof conversationItemColumns>,
] extends [never, never, never, never, never, never, never]
  ? true
  : false = true;
void complete;

const runColumns = [
  "id",
  "workflowKey",
  "versionHash",
  "status",
  "input",
  "finalOutput",
  "structuredOutput",
  "errorCode",
  "errorMessage",
  "conversationId",
  "idempotencyKey",
  "idempotencyFingerprint",
  "requests",
  "inputTokens",
  "outputTokens",
  "totalTokens",
  "lastSeq",
  "owner",
  "createdBy",
  "traceId",
  "parentRunId",
  "parentStepIndex",
  "createdAt",
  "startedAt",
  "endedAt",
] as const satisfies readonly (keyof RunRow)[];
const conversationItemColumns = ["conversationId", "position", "item", "createdAt"] as const satisfies readonly (keyof ConversationItemRow)[];

export const insertRuns = inserter<RunRow>("WorkflowRun", runColumns);
export const insertConversationItems = inserter<ConversationItemRow>("ConversationItem", conversationItemColumns);
export const insertChunks = inserter<ChunkRow>("WorkflowRunEventChunk", chunkColumns);
export const insertSpans = inserter<SpanRow>("TraceSpan", spanColumns);
export const insertSteps = inserter<StepRow>("WorkflowRunStep", stepColumns);
/**
 * Writes whole step rows: inserted when new, every column overwritten when the row exists. The rows
 * must be distinct (PostgreSQL refuses to touch a row twice in one statement).
 */
export const upsertSteps = inserter<StepRow>(
  "WorkflowRunStep",
  stepColumns,
  Prisma.raw(` ON CONFLICT ("runId", "index") DO UPDATE SET ${stepPatchColumns.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(", ")}`),
);

const runSet = columnMap(runPatchColumns);
const stepSet = columnMap(stepPatchColumns);

/**
 * Applies a run patch, guarded: if the run's lastSeq is no longer `expectedLastSeq` (another writer moved
 * it), the statement sets lastSeq to NULL, which its NOT NULL constraint refuses, so the statement fails
 * and the transaction rolls back. The guard needs no affected-row count, so it works inside a batch
 * transaction too. (A missing run is caught by the foreign keys of the rows the batch inserts.)
 */
export function updateRun(runId: string, expectedLastSeq: number, data: RunColumns): Prisma.Sql {
  const { lastSeq, ...rest } = data;
  const next = lastSeq === undefined ? Prisma.sql`"lastSeq"` : Prisma.sql`CAST(${lastSeq} AS INTEGER)`;
  const guard = Prisma.sql`"lastSeq" = CASE WHEN "lastSeq" = ${expectedLastSeq} THEN ${next} ELSE NULL END`;
  const set = setList(runSet, rest);
  return Prisma.sql`UPDATE "WorkflowRun" SET ${set ? Prisma.sql`${set}, ${guard}` : guard} WHERE "id" = ${runId}`;
}

/** Whether `error` is a failed guard of `updateRun`, or a foreign key refusing a row of a missing run. */
export function isGuardFailure(error: unknown): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  const cause = field(field(error.meta, "driverAdapterError"), "cause");
  const kind = field(cause, "kind");
  if (kind === "ForeignKeyConstraintViolation") return true;
  if (kind !== "NullConstraintViolation") return false;
  // SQLite's adapter names the column; PostgreSQL's keeps it in the server's message only.
  const fields = field(field(cause, "constraint"), "fields");
  if (Array.isArray(fields)) return fields.includes("lastSeq");
  const message = field(cause, "originalMessage");
  return typeof message === "string" && message.includes('"lastSeq"');
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined;
}

/** Updates one step; null when the patch changes nothing. */
export function updateStep(runId: string, index: number, data: StepColumns): Prisma.Sql | null {
  const set = setList(stepSet, data);
  return set && Prisma.sql`UPDATE "WorkflowRunStep" SET ${set} WHERE "runId" = ${runId} AND "index" = ${index}`;
}

/** Updates every step of a run whose status is one of `statuses` (and index is at least `fromIndex`); null when the patch changes nothing. */
export function updateStepsWithStatus(runId: string, statuses: readonly string[], data: StepColumns, fromIndex = 0): Prisma.Sql | null {
  const set = setList(stepSet, data);
  if (!set || statuses.length === 0) return null;
  return Prisma.sql`UPDATE "WorkflowRunStep" SET ${set} WHERE "runId" = ${runId} AND "status" IN (${Prisma.join([...statuses])}) AND "index" >= ${fromIndex}`;
}
