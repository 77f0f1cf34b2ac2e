import fs from "node:fs";
import path from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./client";
import { allowConcurrentWork } from "./exclusive";
import { jsonText } from "./mapping";
import { closeSqliteConnections, openSqliteConnections } from "./sqliteConnections";
import { PrismaClient as PostgresPrismaClient } from "./generated/postgres/client";
import { migrateDatabase, type MigrateResult } from "./migrate/migrate";
import { resolveDatabaseUrl, type PostgresLocation, type SqliteLocation } from "./url";

export type DatabaseKind = "sqlite" | "postgres";

export type Database = {
  prisma: PrismaClient;
  kind: DatabaseKind;
  /** SQLite: the absolute `file:` URL. PostgreSQL: the URL without its password. */
  url: string;
  /** What start-up migration did. */
  migrations: MigrateResult;
  /** PostgreSQL only: the connection pool under `prisma` (for LISTEN/NOTIFY and job queues). */
  pool: pg.Pool | null;
  close(): Promise<void>;
};

export type OpenDatabaseOptions = {
  /**
   * `postgres://` (or `postgresql://`) URL, or SQLite `file:` URL or path; default `<repo>/prisma/workflows.db`.
   * Relative paths resolve against the cwd.
   */
  url?: string | null;
  /** Migrations folder, for tests; default the one shipped with this package for the database's kind. */
  migrationsDir?: string;
  /** SQLite: milliseconds a writer waits for another process's write lock before failing. */
  busyTimeoutMs?: number;
  /** PostgreSQL: most connections this process opens (default 10). */
  poolSize?: number;
};

/** Opens (creating if needed) the database, applies pending migrations, and returns a client. */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const location = resolveDatabaseUrl(options.url);
  return location.kind === "sqlite" ? openSqlite(location, options) : openPostgres(location, options);
}

/** WAL mode lets another process read and write the same file safely. */
async function openSqlite(location: SqliteLocation, options: OpenDatabaseOptions): Promise<Database> {
  fs.mkdirSync(path.dirname(location.path), { recursive: true });
  const migrations = await migrateDatabase(location.url, options.migrationsDir ? { migrationsDir: options.migrationsDir } : {});
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: location.url, timeout: busyTimeoutMs }) });
  try {
    // journal_mode answers with a row, so it goes through a query; WAL persists in the file.
    await prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await prisma.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    await prisma.$executeRawUnsafe(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    await prisma.$executeRawUnsafe("PRAGMA foreign_keys = ON");
    // The recorder's writes and the run reads get connections of their own (sqliteConnections.ts).
    openSqliteConnections(prisma, location.path, busyTimeoutMs);
  } catch (error) {
    await prisma.$disconnect();
    throw error;
  }
  let closed = false;
  return {
    prisma,
    kind: "sqlite",
    url: location.url,
    migrations,
    pool: null,
    close: async () => {
      if (closed) return;
      closed = true;
      closeSqliteConnections(prisma);
      await prisma.$disconnect();
    },
  };
}

const pools = new WeakMap<PrismaClient, pg.Pool>();
/** The pool under a PostgreSQL client `openDatabase` opened. */
export function poolOf(prisma: PrismaClient): pg.Pool | undefined {
  return pools.get(prisma);
}

async function openPostgres(location: PostgresLocation, options: OpenDatabaseOptions): Promise<Database> {
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
  pools.set(prisma, pool);
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
      workflowRunEvent: { payload: { needs: { payload: true }, compute: (row) => jsonText(row.payload) } },
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
