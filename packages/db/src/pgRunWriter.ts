// The recorder's batch transaction on PostgreSQL straight through `pg` on the pool, with named (server-side
// prepared) statements: parsed and planned once per connection instead of once per batch.
import type pg from "pg";
import type { Prisma, TraceSpan } from "./client";
import { groupBy } from "./groupBy";
import type { RunRow } from "./mapping";
import { GuardFailure, UniqueViolation, type PrismaRunWriter, type RunSeq, type RunWriter } from "./runWriter";
import { planPack, type EventChunk, type PackRow } from "./runPacks";
import { insertRuns } from "./sql";

/** Statement texts vary with a batch's row counts; past this many, new texts go unnamed. */
const MAX_NAMED = 512;
/**
 * One name per statement text for the whole process: a pooled connection serves every writer of the pool,
 * and PostgreSQL refuses a name prepared on it for another text.
 */
const names = new Map<string, string>();

export class PgRunWriter implements RunWriter {
  readonly #pool: pg.Pool;
  readonly #prisma: PrismaRunWriter;

  constructor(pool: pg.Pool, prisma: PrismaRunWriter) {
    this.#pool = pool;
    this.#prisma = prisma;
  }

  // Only runs started with an idempotency key read this: Prisma shapes the row (jsonb, dates) as the reads do.
  findRunByIdempotencyKey(key: string): Promise<RunRow | null> {
    return this.#prisma.findRunByIdempotencyKey(key);
  }

  async insertRun(row: RunRow): Promise<void> {
    try {
      for (const statement of insertRuns([row])) await this.#pool.query(this.#config(statement));
    } catch (error) {
      if (isUniqueViolation(error)) throw new UniqueViolation({ cause: error });
      throw error;
    }
  }

  async lastSeqOf(ids: readonly string[]): Promise<RunSeq[]> {
    const result = await this.#pool.query<RunSeq>({ name: "wf_last_seq", text: `SELECT "id", "lastSeq" FROM "WorkflowRun" WHERE "id" = ANY($1)`, values: [ids] });
    return result.rows;
  }

  async commit(statements: readonly Prisma.Sql[]): Promise<void> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      try {
        for (const statement of statements) await client.query(this.#config(statement));
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch((rollback: unknown) => (broken = rollback instanceof Error ? rollback : new Error(String(rollback))));
        const code = (error as { code?: unknown }).code;
        const column = (error as { column?: unknown }).column;
        if (code === "23503" || (code === "23502" && column === "lastSeq")) throw new GuardFailure({ cause: error });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  /**
   * All the runs in one transaction of seven statements (two reads for every run at once, then the packs'
   * insert and the deletes), where Prisma's interactive transaction took nine round trips per run. When that
   * fails, each run is packed alone, so that a run at fault loses only its own pack.
   */
  async packRuns(runIds: readonly string[]): Promise<(number | null)[]> {
    try {
      return await this.#packTogether(runIds);
    } catch (error) {
      if (runIds.length === 1) return [isUniqueViolation(error) ? 0 : null];
      const packed: (number | null)[] = [];
      for (const runId of runIds) packed.push(await this.#packTogether([runId]).then((made) => made[0] ?? 0, (alone: unknown) => (isUniqueViolation(alone) ? 0 : null)));
      return packed;
    }
  }

  async #packTogether(runIds: readonly string[]): Promise<number[]> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      try {
        // Locked in one order: a sweep packing the same runs waits, then finds nothing left to pack.
        const chunks = await client.query<EventChunk & { runId: string }>({
          name: "wf_pack_chunks",
          text: `SELECT "runId", "firstSeq", "lastSeq", "events" FROM "WorkflowRunEventChunk" WHERE "runId" = ANY($1) ORDER BY "runId", "lastSeq" FOR UPDATE`,
          values: [runIds],
        });
        const spans = await client.query<Omit<TraceSpan, "id"> & { id: string }>({
          // Ordered by the column, not by its text (qualified: the output's "id" is text).
          name: "wf_pack_spans",
          text: `SELECT s."id"::text AS "id", "runId", "stepIndex", "traceId", "spanId", "parentId", "kind", "name", "startedAt", "endedAt", "error", s."data"::text AS "data" FROM "TraceSpan" s WHERE "runId" = ANY($1) ORDER BY s."runId", s."id" FOR UPDATE`,
          values: [runIds],
        });
        const chunksOf = groupBy(chunks.rows, (chunk) => chunk.runId);
        const spansOf = groupBy(spans.rows, (span) => span.runId);
        const made: number[] = [];
        const packs: PackRow[] = [];
        const spansUpTo: { runId: string; id: number }[] = [];
        for (const runId of runIds) {
          const runSpans = (spansOf.get(runId) ?? []).map((span): TraceSpan => ({ ...span, id: Number(span.id) }));
          const planned = planPack(runId, chunksOf.get(runId) ?? [], runSpans);
          made.push(planned ? planned.pack.lastSeq - planned.pack.firstSeq + 1 : 0);
          if (!planned) continue;
          packs.push(planned.pack);
          if (planned.lastSpanId !== null) spansUpTo.push({ runId, id: planned.lastSpanId });
        }
        if (packs.length > 0) {
          const column = <K extends keyof PackRow>(key: K) => packs.map((pack) => pack[key]);
          await client.query({
            name: "wf_pack_insert",
            text: `INSERT INTO "WorkflowRunPack" ("runId", "lastSeq", "firstSeq", "events", "spanCount", "spans") SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::bytea[], $5::int[], $6::bytea[])`,
            values: [column("runId"), column("lastSeq"), column("firstSeq"), column("events"), column("spanCount"), column("spans")],
          });
          await client.query({
            name: "wf_pack_delete_chunks",
            text: `DELETE FROM "WorkflowRunEventChunk" c USING unnest($1::text[], $2::int[]) AS p("runId", "lastSeq") WHERE c."runId" = p."runId" AND c."lastSeq" <= p."lastSeq"`,
            values: [column("runId"), column("lastSeq")],
          });
        }
        if (spansUpTo.length > 0) {
          await client.query({
            name: "wf_pack_delete_spans",
            text: `DELETE FROM "TraceSpan" s USING unnest($1::text[], $2::bigint[]) AS p("runId", "id") WHERE s."runId" = p."runId" AND s."id" <= p."id"`,
            values: [spansUpTo.map((s) => s.runId), spansUpTo.map((s) => s.id)],
          });
        }
        await client.query("COMMIT");
        return made;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollback: unknown) => (broken = rollback instanceof Error ? rollback : new Error(String(rollback))));
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  #config(statement: Prisma.Sql): pg.QueryConfig {
    const text = statement.text;
    let name = names.get(text);
    if (name === undefined && names.size < MAX_NAMED) {
      name = `wf_batch_${names.size}`;
      names.set(text, name);
    }
    const values = statement.values.map((v) => (v instanceof Date ? v.toISOString() : v));
    return name === undefined ? { text, values } : { name, text, values };
  }
}

const isUniqueViolation = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === "23505";
