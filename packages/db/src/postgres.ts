// A PostgreSQL database: its pool, and its Prisma client reading rows as the SQLite client types them.
// Loaded by openDatabase for PostgreSQL URLs only.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { PrismaClient } from "./client";
import type { Database, OpenDatabaseOptions } from "./database";
import { allowConcurrentWork } from "./exclusive";
import { PrismaClient as PostgresPrismaClient } from "./generated/postgres/client";
import { jsonText } from "./mapping";
import { migrateDatabase } from "./migrate/migrate";
import type { PostgresLocation } from "./url";

export async function openPostgres(location: PostgresLocation, options: OpenDatabaseOptions): Promise<Database & { pool: pg.Pool }> {
  const migrations = await migrateDatabase(location.url, options.migrationsDir ? { migrationsDir: options.migrationsDir } : {});
  const pool = new pg.Pool({
    connectionString: location.url,
    max: options.poolSize ?? 10,
    // adapter-pg sends instants without a zone; they are UTC.
    options: "-c TimeZone=UTC",
    application_name: "workflows",
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection the server closed (restart, failover) must not crash the process; the pool replaces it.
  pool.on("error", () => undefined);
  const prisma = withSqliteShapedRows(new PostgresPrismaClient({ adapter: new PrismaPg(pool) }));
  allowConcurrentWork(prisma);
  let closed = false;
  return {
    prisma,
    kind: "postgres",
    url: location.display,
    migrations,
    pool,
    close: async () => {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/**
 * The PostgreSQL client, reading rows as the SQLite client types them (client.ts): jsonb columns as JSON
 * text, bigint ids as numbers (they stay far below 2^53).
 */
function withSqliteShapedRows(client: PostgresPrismaClient): PrismaClient {
  const extended = client.$extends({
    result: {
      workflowRun: { structuredOutput: { needs: { structuredOutput: true }, compute: (row) => jsonText(row.structuredOutput) } },
      workflowRunStep: { structuredOutput: { needs: { structuredOutput: true }, compute: (row) => jsonText(row.structuredOutput) } },
      traceSpan: {
        data: { needs: { data: true }, compute: (row) => jsonText(row.data) },
        id: { needs: { id: true }, compute: (row) => Number(row.id) },
      },
      conversationItem: {
        item: { needs: { item: true }, compute: (row) => jsonText(row.item) },
        id: { needs: { id: true }, compute: (row) => Number(row.id) },
      },
    },
  });
  return extended as unknown as PrismaClient;
}
