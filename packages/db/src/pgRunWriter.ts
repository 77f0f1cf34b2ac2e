// The recorder's batch transaction on PostgreSQL straight through `pg` on the pool, with named (server-side
// prepared) statements: parsed and planned once per connection instead of once per batch.
import type pg from "pg";
import type { Prisma } from "./client";
import type { RunRow } from "./mapping";
import { GuardFailure, UniqueViolation, type PrismaRunWriter, type RunSeq, type RunWriter } from "./runWriter";
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
      if ((error as { code?: unknown }).code === "23505") throw new UniqueViolation({ cause: error });
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

  // Once per finished run, off the hot path: Prisma's transaction is enough.
  packRuns(runIds: readonly string[]): Promise<(number | null)[]> {
    return this.#prisma.packRuns(runIds);
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
