import fs from "node:fs";
import path from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import type pg from "pg";
import { PrismaClient } from "./client";
import { closeSqliteConnections, openSqliteConnections } from "./sqliteConnections";
import { migrateDatabase, type MigrateResult } from "./migrate/migrate";
import { resolveDatabaseUrl, type SqliteLocation } from "./url";

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
  if (location.kind === "sqlite") return openSqlite(location, options);
  // The PostgreSQL client, adapter and driver are loaded for PostgreSQL only: a SQLite server never holds them.
  const { openPostgres } = await import("./postgres");
  const database = await openPostgres(location, options);
  pools.set(database.prisma, database.pool);
  return database;
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
