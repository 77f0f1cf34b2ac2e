// SQLite without Prisma on the hot paths: the recorder's writes on a connection of their own, with
// statements prepared once and one synchronous transaction per batch, and the run reads on another
// connection, so a reader never waits for a write transaction (WAL: readers see the last commit).
// Prisma keeps the schema, the migrations and every other query.
import Database from "better-sqlite3";
import type { Prisma, PrismaClient, TraceSpan, WorkflowRun, WorkflowRunStep } from "./client";
import type { RunRow } from "./mapping";
import { mergeEvents, mergeSpans, planPack, type EventChunk } from "./runPacks";
import { insertRuns } from "./sql";
import { GuardFailure, UniqueViolation, type RunSeq, type RunWriter } from "./runWriter";

type Value = string | number | bigint | Buffer | null;
type Statement = Database.Statement<Value[]>;

/** The statement cache's bound: texts vary with a batch's row counts, so it is a bound, not a policy. */
const MAX_CACHED = 256;

/** A connection whose statements are prepared once per SQL text. */
class Connection {
  readonly db: Database.Database;
  readonly #cache = new Map<string, Statement>();

  constructor(file: string, pragmas: readonly string[]) {
    this.db = new Database(file);
    try {
      for (const pragma of pragmas) this.db.pragma(pragma);
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  prepare(sql: string): Statement {
    let statement = this.#cache.get(sql);
    if (!statement) {
      if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
      statement = this.db.prepare<Value[]>(sql);
      this.#cache.set(sql, statement);
    }
    return statement;
  }

  run(query: Prisma.Sql): void {
    this.prepare(query.sql).run(...query.values.map(toSqlite));
  }

  close(): void {
    this.#cache.clear();
    this.db.close();
  }
}

/** A value as Prisma's SQLite adapter writes it: dates as ISO text with "+00:00", so ORM reads parse them. */
function toSqlite(value: unknown): Value {
  if (value instanceof Date) return sqliteDate(value);
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  return value as Value;
}

let lastMs = Number.NaN;
let lastText = "";
/** Formatted once per millisecond: a batch's events mostly share their `at` (the runner stamps them per ms). */
function sqliteDate(date: Date): string {
  const ms = date.getTime();
  if (ms !== lastMs) {
    lastText = date.toISOString().replace("Z", "+00:00");
    lastMs = ms;
  }
  return lastText;
}

const date = (text: unknown): Date => new Date(text as string);
const dateOrNull = (text: unknown): Date | null => (text === null || text === undefined ? null : new Date(text as string));

/** Raw rows of WorkflowRun as the ORM types them. */
function runRow(raw: Record<string, unknown>): WorkflowRun {
  return { ...(raw as WorkflowRun), createdAt: date(raw.createdAt), startedAt: dateOrNull(raw.startedAt), endedAt: dateOrNull(raw.endedAt) };
}
function stepRow(raw: Record<string, unknown>): WorkflowRunStep {
  return { ...(raw as WorkflowRunStep), startedAt: dateOrNull(raw.startedAt), endedAt: dateOrNull(raw.endedAt) };
}

function sqliteCode(error: unknown): string {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : "";
}

/** The database is locked by another connection (SQLITE_BUSY and its extended codes). */
function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === "SQLITE_BUSY" || code.startsWith("SQLITE_BUSY_");
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The recorder's writes. Each batch is one synchronous `BEGIN IMMEDIATE … COMMIT`, so the write lock is
 * never held across a turn of the event loop. Its busy timeout is 0: when another connection (Prisma's, or
 * another process) holds the lock, the writer waits asynchronously and tries again, up to the database's
 * busy timeout; a synchronous wait would block the very event loop the lock holder may need to commit.
 */
export class SqliteRunWriter implements RunWriter {
  readonly #conn: Connection;
  readonly #busyTimeoutMs: number;
  readonly #transaction: (statements: readonly Prisma.Sql[]) => void;
  readonly #packTransaction: (runIds: readonly string[]) => number[];

  constructor(file: string, busyTimeoutMs: number) {
    this.#conn = new Connection(file, ["journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON", "busy_timeout = 0"]);
    this.#busyTimeoutMs = busyTimeoutMs;
    const transaction = this.#conn.db.transaction((statements: readonly Prisma.Sql[]) => {
      for (const statement of statements) this.#conn.run(statement);
    });
    this.#transaction = (statements) => transaction.immediate(statements);
    const packOne = (runId: string): number => {
      const chunks = this.#conn.prepare(`SELECT "firstSeq", "lastSeq", "events" FROM "WorkflowRunEventChunk" WHERE "runId" = ? ORDER BY "lastSeq" ASC`).all(runId) as EventChunk[];
      const spans = this.#conn.prepare(`SELECT * FROM "TraceSpan" WHERE "runId" = ? ORDER BY "id" ASC`).all(runId) as TraceSpan[];
      const planned = planPack(runId, chunks, spans);
      if (!planned) return 0;
      const { pack, lastSpanId } = planned;
      this.#conn
        .prepare(`INSERT INTO "WorkflowRunPack" ("runId", "lastSeq", "firstSeq", "events", "spanCount", "spans") VALUES (?, ?, ?, ?, ?, ?)`)
        .run(runId, pack.lastSeq, pack.firstSeq, pack.events, pack.spanCount, pack.spans);
      this.#conn.prepare(`DELETE FROM "WorkflowRunEventChunk" WHERE "runId" = ? AND "lastSeq" <= ?`).run(runId, pack.lastSeq);
      if (lastSpanId !== null) this.#conn.prepare(`DELETE FROM "TraceSpan" WHERE "runId" = ? AND "id" <= ?`).run(runId, lastSpanId);
      return pack.lastSeq - pack.firstSeq + 1;
    };
    const packMany = this.#conn.db.transaction((runIds: readonly string[]) => runIds.map(packOne));
    this.#packTransaction = (runIds) => packMany.immediate(runIds);
  }

  findRunByIdempotencyKey(key: string): Promise<RunRow | null> {
    return this.#retrying(() => {
      const raw = this.#conn.prepare(`SELECT * FROM "WorkflowRun" WHERE "idempotencyKey" = ?`).get(key) as Record<string, unknown> | undefined;
      return raw ? runRow(raw) : null;
    });
  }

  insertRun(row: RunRow): Promise<void> {
    return this.#retrying(() => {
      try {
        for (const statement of insertRuns([row])) this.#conn.run(statement);
      } catch (error) {
        const code = sqliteCode(error);
        if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") throw new UniqueViolation({ cause: error });
        throw error;
      }
    });
  }

  lastSeqOf(ids: readonly string[]): Promise<RunSeq[]> {
    return this.#retrying(() => {
      const statement = this.#conn.prepare(`SELECT "id", "lastSeq" FROM "WorkflowRun" WHERE "id" = ?`);
      const found: RunSeq[] = [];
      for (const id of ids) {
        const row = statement.get(id) as RunSeq | undefined;
        if (row) found.push(row);
      }
      return found;
    });
  }

  commit(statements: readonly Prisma.Sql[]): Promise<void> {
    return this.#retrying(() => {
      try {
        this.#transaction(statements);
      } catch (error) {
        const code = sqliteCode(error);
        if (code === "SQLITE_CONSTRAINT_FOREIGNKEY") throw new GuardFailure({ cause: error });
        if (code === "SQLITE_CONSTRAINT_NOTNULL" && error instanceof Error && error.message.includes("lastSeq")) throw new GuardFailure({ cause: error });
        throw error;
      }
    });
  }

  /**
   * All the runs in one transaction: runs that ran side by side share their chunk and span rows' pages, so packed
   * together they rewrite each page once (measured: pack transactions went from about 28 % of the server's
   * CPU under 50 concurrent runs to 8 %). When that fails for another reason than a busy database, each run
   * is packed alone, so that a run at fault loses only its own pack.
   */
  async packRuns(runIds: readonly string[]): Promise<(number | null)[]> {
    try {
      return await this.#retrying(() => this.#packTransaction(runIds));
    } catch (error) {
      if (runIds.length === 1 || isBusy(error)) return runIds.map(() => null);
      const packed: (number | null)[] = [];
      for (const runId of runIds) packed.push(await this.#retrying(() => this.#packTransaction([runId])[0] ?? 0).catch(() => null));
      return packed;
    }
  }

  close(): void {
    this.#conn.close();
  }

  /** Runs `work` now; while the database is locked by another connection, again after a short wait. */
  async #retrying<T>(work: () => T): Promise<T> {
    const deadline = performance.now() + this.#busyTimeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      try {
        return work();
      } catch (error) {
        if (!isBusy(error) || performance.now() >= deadline) throw error;
      }
      await sleep(wait);
    }
  }
}

/** The run reads of queries.ts on a read-only connection of their own: never queued behind a write. */
export class SqliteRunReader {
  readonly #conn: Connection;

  constructor(file: string, busyTimeoutMs: number) {
    // A WAL reader waits only in rare cases (a checkpoint resetting the log); a short synchronous wait is fine.
    this.#conn = new Connection(file, ["journal_mode = WAL", "query_only = ON", `busy_timeout = ${Math.max(0, Math.trunc(Math.min(busyTimeoutMs, 1_000)))}`]);
  }

  run(id: string): WorkflowRun | null {
    const raw = this.#conn.prepare(`SELECT * FROM "WorkflowRun" WHERE "id" = ?`).get(id) as Record<string, unknown> | undefined;
    return raw ? runRow(raw) : null;
  }

  /** The run and its steps, read in one transaction (one snapshot). */
  runWithSteps(id: string): { run: WorkflowRun; steps: WorkflowRunStep[] } | null {
    return this.#conn.db.transaction(() => {
      const run = this.run(id);
      if (!run) return null;
      const steps = (this.#conn.prepare(`SELECT * FROM "WorkflowRunStep" WHERE "runId" = ? ORDER BY "index" ASC`).all(id) as Record<string, unknown>[]).map(stepRow);
      return { run, steps };
    })();
  }

  runByIdempotencyKey(key: string): WorkflowRun | null {
    const raw = this.#conn.prepare(`SELECT * FROM "WorkflowRun" WHERE "idempotencyKey" = ?`).get(key) as Record<string, unknown> | undefined;
    return raw ? runRow(raw) : null;
  }

  /** A run's events after `afterSeq` (JSON values), from its chunks and its packs in one snapshot. */
  events(runId: string, afterSeq: number, limit: number): unknown[] {
    return this.#conn.db.transaction(() => {
      const chunks = this.#conn.prepare(`SELECT "firstSeq", "lastSeq", "events" FROM "WorkflowRunEventChunk" WHERE "runId" = ? AND "lastSeq" > ? ORDER BY "lastSeq" ASC LIMIT ?`).all(runId, afterSeq, limit) as EventChunk[];
      const packs = this.#conn.prepare(`SELECT "firstSeq", "events" FROM "WorkflowRunPack" WHERE "runId" = ? AND "lastSeq" > ? ORDER BY "lastSeq" ASC`).all(runId, afterSeq) as { firstSeq: number; events: Buffer }[];
      return mergeEvents(chunks, packs, afterSeq, limit);
    })();
  }

  /** A run's spans, from its packs and its rows in one snapshot. */
  spans(runId: string): TraceSpan[] {
    return this.#conn.db.transaction(() => {
      const packs = this.#conn.prepare(`SELECT "spans" FROM "WorkflowRunPack" WHERE "runId" = ? ORDER BY "lastSeq" ASC`).all(runId) as { spans: Buffer | null }[];
      const rows = this.#conn.prepare(`SELECT * FROM "TraceSpan" WHERE "runId" = ? ORDER BY "id" ASC`).all(runId) as TraceSpan[];
      return mergeSpans(runId, packs, rows);
    })();
  }

  close(): void {
    this.#conn.close();
  }
}

export type SqliteConnections = { writer: SqliteRunWriter; reader: SqliteRunReader };
const registered = new WeakMap<PrismaClient, SqliteConnections>();

/** Opens the writer and reader connections of a SQLite database file and ties them to its Prisma client. */
export function openSqliteConnections(prisma: PrismaClient, file: string, busyTimeoutMs: number): SqliteConnections {
  const writer = new SqliteRunWriter(file, busyTimeoutMs);
  let reader: SqliteRunReader;
  try {
    reader = new SqliteRunReader(file, busyTimeoutMs);
  } catch (error) {
    writer.close();
    throw error;
  }
  const connections = { writer, reader };
  registered.set(prisma, connections);
  return connections;
}

/** The direct connections `openDatabase` opened beside this client; undefined for PostgreSQL and bare clients. */
export function sqliteConnectionsOf(prisma: PrismaClient): SqliteConnections | undefined {
  return registered.get(prisma);
}

/** Closes them and unties them from the client. */
export function closeSqliteConnections(prisma: PrismaClient): void {
  const connections = registered.get(prisma);
  if (!connections) return;
  registered.delete(prisma);
  connections.writer.close();
  connections.reader.close();
}
