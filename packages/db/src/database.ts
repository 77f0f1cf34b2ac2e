import fs from "node:fs";
import path from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "./generated/client";
import { migrateDatabase, type MigrateResult } from "./migrate/migrate";
import { resolveSqliteUrl } from "./url";

export type Database = {
  prisma: PrismaClient;
  kind: "sqlite";
  /** Absolute `file:` URL of the database. */
  url: string;
  /** What start-up migration did. */
  migrations: MigrateResult;
  close(): Promise<void>;
};

export type OpenDatabaseOptions = {
  /** `file:` URL or path; default `<repo>/prisma/workflows.db`. Relative paths resolve against the cwd. */
  url?: string | null;
  /** Migrations folder, for tests; default the one shipped with this package. */
  migrationsDir?: string;
  /** Milliseconds a writer waits for another process's write lock before failing. */
  busyTimeoutMs?: number;
};

/**
 * Opens (creating if needed) the SQLite database, applies pending migrations, and returns a client.
 * WAL mode lets another process read and write the same file safely.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const location = resolveSqliteUrl(options.url);
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
  } catch (error) {
    await prisma.$disconnect();
    throw error;
  }
  return {
    prisma,
    kind: "sqlite",
    url: location.url,
    migrations,
    close: () => prisma.$disconnect(),
  };
}
