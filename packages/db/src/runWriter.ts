// The recorder's write path behind one small interface: Prisma (either database) or a direct SQLite
// connection (sqliteConnections.ts). The recorder plans its statements once (batch.ts, sql.ts); a writer only
// runs them and says, in its own terms, which failures mean "another writer moved the run".
import { Prisma, type PrismaClient } from "./client";
import { exclusive } from "./exclusive";
import type { RunRow } from "./mapping";
import { planPack } from "./runPacks";
import { isGuardFailure } from "./sql";

/** A batch failed its lastSeq guard, or a foreign key refused a row of a missing run: another writer moved (or removed) a run. */
export class GuardFailure extends Error {
  constructor(options?: ErrorOptions) {
    super("a run's lastSeq guard or foreign key failed", options);
  }
}

/** An insert hit a unique index (a run id, or an idempotency key, used already). */
export class UniqueViolation extends Error {
  constructor(options?: ErrorOptions) {
    super("unique constraint failed", options);
  }
}

/** The run columns the recorder reads back to validate a batch. */
export type RunSeq = { id: string; lastSeq: number };

export interface RunWriter {
  findRunByIdempotencyKey(key: string): Promise<RunRow | null>;
  /** Rejects with `UniqueViolation` when the id or the idempotency key exists. */
  insertRun(row: RunRow): Promise<void>;
  /** The lastSeq of those of `ids` that exist. */
  lastSeqOf(ids: readonly string[]): Promise<RunSeq[]>;
  /** Runs the statements in ONE transaction; rejects with `GuardFailure` when a guard or foreign key fails. */
  commit(statements: readonly Prisma.Sql[]): Promise<void>;
  /**
   * Folds each finished run's event chunks and span rows into one pack (runPacks.ts); resolves to how many events
   * it packed per run, null for a run whose pack failed (its rows stay, and read the same).
   */
  packRuns(runIds: readonly string[]): Promise<(number | null)[]>;
}

/** Writes through Prisma: PostgreSQL, and a SQLite client opened without `openDatabase`. */
export class PrismaRunWriter implements RunWriter {
  readonly #prisma: PrismaClient;
  constructor(prisma: PrismaClient) {
    this.#prisma = prisma;
  }

  findRunByIdempotencyKey(key: string): Promise<RunRow | null> {
    return exclusive(this.#prisma, () => this.#prisma.workflowRun.findUnique({ where: { idempotencyKey: key } }));
  }

  async insertRun(row: RunRow): Promise<void> {
    try {
      await exclusive(this.#prisma, () => this.#prisma.workflowRun.create({ data: row }));
    } catch (error) {
      if (isUniqueViolation(error)) throw new UniqueViolation({ cause: error });
      throw error;
    }
  }

  lastSeqOf(ids: readonly string[]): Promise<RunSeq[]> {
    return exclusive(this.#prisma, () => this.#prisma.workflowRun.findMany({ where: { id: { in: [...ids] } }, select: { id: true, lastSeq: true } }));
  }

  async commit(statements: readonly Prisma.Sql[]): Promise<void> {
    // One batch transaction: the statements go to the driver back to back, with no round trip through
    // the recorder between them (measured cheaper than an interactive transaction).
    try {
      await exclusive(this.#prisma, () => this.#prisma.$transaction(statements.map((q) => this.#prisma.$executeRaw(q))));
    } catch (error) {
      if (isGuardFailure(error)) throw new GuardFailure({ cause: error });
      throw error;
    }
  }

  /** One transaction per run. */
  async packRuns(runIds: readonly string[]): Promise<(number | null)[]> {
    const packed: (number | null)[] = [];
    for (const runId of runIds) packed.push(await this.#packRun(runId).catch(() => null));
    return packed;
  }

  async #packRun(runId: string): Promise<number> {
    try {
      return await exclusive(this.#prisma, () =>
        this.#prisma.$transaction(async (tx) => {
          const [chunks, spans] = [
            await tx.workflowRunEventChunk.findMany({ where: { runId }, orderBy: { lastSeq: "asc" }, select: { firstSeq: true, lastSeq: true, events: true } }),
            await tx.traceSpan.findMany({ where: { runId }, orderBy: { id: "asc" } }),
          ];
          const planned = planPack(runId, chunks, spans);
          if (!planned) return 0;
          const { pack, lastSpanId } = planned;
          await tx.workflowRunPack.create({ data: { ...pack, events: new Uint8Array(pack.events), spans: pack.spans && new Uint8Array(pack.spans) } });
          await tx.workflowRunEventChunk.deleteMany({ where: { runId, lastSeq: { lte: pack.lastSeq } } });
          if (lastSpanId !== null) await tx.traceSpan.deleteMany({ where: { runId, id: { lte: lastSpanId } } });
          return pack.lastSeq - pack.firstSeq + 1;
        }),
      );
    } catch (error) {
      // Another writer packed the same rows first.
      if (isUniqueViolation(error)) return 0;
      throw error;
    }
  }
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}
