import fs from "node:fs";
import path from "node:path";
import { fork } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { isDriverAdapterError } from "@prisma/driver-adapter-utils";
import type pg from "pg";
import { DatabaseMigrationError } from "../errors";
import { migrationsDir as sqliteMigrationsDir, postgresMigrationsDir, postgresSchemaPath, schemaPath as sqliteSchemaPath } from "../paths";
import { describeLocation, resolveDatabaseUrl, type DatabaseLocation, type PostgresLocation } from "../url";
import type { ApplyReply, ApplyRequest } from "./applyWorker";
import { messageOf, noFilters, openSchemaEngine, readMigrationsList, type EngineSession } from "./engine";

export type MigrateOptions = {
  /** Migrations folder; defaults to the one shipped in this package for the database's kind. */
  migrationsDir?: string;
  /** Progress lines for a console; silent when absent. */
  log?: (line: string) => void;
};

export type MigrateResult = {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Migrations the database already had. */
  alreadyApplied: string[];
};

type AppliedMigration = { name: string; finished: boolean; rolledBack: boolean };

/** The schema and migrations shipped for a database kind. */
export function shippedSchemaOf(kind: DatabaseLocation["kind"]): { schemaPath: string; migrationsDir: string } {
  return kind === "sqlite" ? { schemaPath: sqliteSchemaPath, migrationsDir: sqliteMigrationsDir } : { schemaPath: postgresSchemaPath, migrationsDir: postgresMigrationsDir };
}

/**
 * Applies the migrations the database lacks (`url`: a SQLite `file:` URL or a `postgres://` URL). Refuses with
 * `DatabaseMigrationError("database-newer-than-code")` when the database records migrations this code does
 * not ship. Loads the schema engine only when needed. On PostgreSQL, servers starting together take turns
 * (an advisory lock): the first migrates, the others find nothing to do.
 */
export async function migrateDatabase(url?: string | null, options: MigrateOptions = {}): Promise<MigrateResult> {
  const location = resolveDatabaseUrl(url);
  if (location.kind === "sqlite") {
    fs.mkdirSync(path.dirname(location.path), { recursive: true });
    return migrateLocked(location, options);
  }
  return withMigrationLock(location, () => migrateLocked(location, options));
}

async function migrateLocked(location: DatabaseLocation, options: MigrateOptions): Promise<MigrateResult> {
  const dir = options.migrationsDir ?? shippedSchemaOf(location.kind).migrationsDir;
  const log = options.log ?? (() => undefined);
  const where = describeLocation(location);
  const local = readMigrationsList(dir).migrationDirectories.map((d) => d.path);
  const history = await readAppliedMigrations(location);
  const applied = history.filter((m) => m.finished && !m.rolledBack).map((m) => m.name);
  assertNotNewerThanCode(applied, local, where);

  const pending = local.filter((name) => !applied.includes(name));
  if (pending.length === 0) {
    log(`Database ${where} is up to date (${applied.length} migrations).`);
    return { applied: [], alreadyApplied: applied };
  }
  log(`Applying ${pending.length} migration(s) to ${where}: ${pending.join(", ")}`);
  const appliedNow = await applyInChild(location, dir);
  for (const name of appliedNow) log(`  applied ${name}`);
  return { applied: appliedNow, alreadyApplied: applied };
}

/**
 * Applies the pending migrations with the schema engine in a child process, whose memory goes with it: in the
 * server's process the engine kept about 40 MB for the process's lifetime (measured: idle RSS after a start on
 * a fresh SQLite file). A process rather than a worker thread: whatever the engine's WebAssembly or a native
 * driver does on its way out cannot take the server (or a test runner) down with it, and a crash comes back as
 * an error naming its signal. From the sources (tests, tsx) the child loads tsx (this package's own) first;
 * from dist/ it runs the compiled applyWorker.js beside this module.
 */
function applyInChild(location: DatabaseLocation, migrationsDir: string): Promise<string[]> {
  const schemaPath = shippedSchemaOf(location.kind).schemaPath;
  const request: ApplyRequest = { location, schema: { path: schemaPath, content: fs.readFileSync(schemaPath, "utf8") }, migrationsDir };
  const fromSources = import.meta.url.endsWith(".ts");
  const child = fork(fileURLToPath(new URL(fromSources ? "./applyWorker.ts" : "./applyWorker.js", import.meta.url)), {
    execArgv: fromSources ? ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href] : [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise<string[]>((resolve, reject) => {
    child.once("message", (reply: ApplyReply) => {
      if ("applied" in reply) resolve(reply.applied);
      else reject(new DatabaseMigrationError("engine-failed", `Schema engine: ${reply.failure}`));
    });
    child.once("error", (error) => reject(new DatabaseMigrationError("engine-failed", `Schema engine: ${messageOf(error)}`, [], { cause: error })));
    // "close" comes after the IPC channel's last message ("exit" may come before it); after a reply it changes
    // nothing, a promise settles once.
    child.once("close", (code, signal) =>
      reject(new DatabaseMigrationError("engine-failed", `The schema engine's process ended (${signal ? `signal ${signal}` : `exit code ${code}`}) without applying the migrations.`)),
    );
    child.send(request);
  });
}

/** An arbitrary constant: the key of the session-level advisory lock that migrators of this service share. */
const MIGRATION_LOCK_KEY = 7_286_330_114;

async function withMigrationLock<T>(location: PostgresLocation, work: () => Promise<T>): Promise<T> {
  const client = await pgClient(location);
  try {
    await client.connect();
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new DatabaseMigrationError("engine-failed", `Could not connect to ${location.display}: ${messageOf(error)}`, [], { cause: error });
  }
  try {
    return await work();
  } finally {
    // Ending the session releases the lock.
    await client.end().catch(() => undefined);
  }
}

/** pg is loaded for PostgreSQL only: a SQLite server never holds it in memory. */
async function pgClient(location: PostgresLocation): Promise<pg.Client> {
  const { default: pg } = await import("pg");
  const { host, port, user, password, database } = location;
  return new pg.Client({ host, port, user, database, ...(password === undefined ? {} : { password }), connectionTimeoutMillis: 10_000 });
}

export type CreateMigrationResult = {
  /** Folder name of the new migration, or null when the schema had no changes. */
  created: string | null;
  applied: string[];
};

/** `migrate dev`: writes a migration for the schema's changes (if any) and applies everything pending. */
export async function createMigration(
  name: string,
  options: MigrateOptions & { url?: string | null; schemaPath?: string } = {},
): Promise<CreateMigrationResult> {
  const location = resolveDatabaseUrl(options.url);
  const shipped = shippedSchemaOf(location.kind);
  const dir = options.migrationsDir ?? shipped.migrationsDir;
  const schemaFile = options.schemaPath ?? shipped.schemaPath;
  const log = options.log ?? (() => undefined);
  const migrationName = name.trim().replace(/[^A-Za-z0-9_]+/g, "_");
  if (migrationName === "") throw new DatabaseMigrationError("engine-failed", "A migration needs a name, e.g. `pnpm db:migrate add_runs`.");

  // Bring the database up to date first: the engine requires it and refuses nothing newer than us.
  const before = await migrateDatabase(location.url, { migrationsDir: dir, log });
  const schema = { path: schemaFile, content: fs.readFileSync(schemaFile, "utf8") };
  const session = await openSchemaEngine({ location, schema });
  try {
    const migrationsList = readMigrationsList(dir);
    // Also creates _prisma_migrations on a fresh database, without which devDiagnostic fails (P1014).
    await run(session, () => session.engine.applyMigrations({ migrationsList, filters: noFilters }));
    // devDiagnostic replays history into the shadow database; createMigration on SQLite needs that first.
    const diagnostic = await run(session, () => session.engine.devDiagnostic({ migrationsList, filters: noFilters }));
    if (diagnostic.action.tag === "reset") {
      throw new DatabaseMigrationError("reset-needed", `The database must be reset before a new migration can be created: ${diagnostic.action.reason}`);
    }
    const out = await run(session, () =>
      session.engine.createMigration({ draft: false, migrationName, migrationsList, schema: { files: [schema] }, filters: noFilters }),
    );
    if (out.migrationScript === null) {
      log("No schema changes: no migration created.");
      return { created: null, applied: before.applied };
    }
    const target = path.join(dir, out.generatedMigrationName);
    fs.mkdirSync(target, { recursive: true });
    fs.writeFileSync(path.join(target, `migration.${out.extension}`), out.migrationScript);
    const lock = path.join(dir, "migration_lock.toml");
    if (!fs.existsSync(lock)) fs.writeFileSync(lock, `# Written by the migrate script; keep it in version control.\nprovider = "${out.connectorType}"\n`);
    log(`Created ${path.relative(process.cwd(), target) || target}`);
    const applied = await run(session, () => session.engine.applyMigrations({ migrationsList: readMigrationsList(dir), filters: noFilters }));
    for (const n of applied.appliedMigrationNames) log(`  applied ${n}`);
    return { created: out.generatedMigrationName, applied: [...before.applied, ...applied.appliedMigrationNames] };
  } finally {
    await session.close();
  }
}

function assertNotNewerThanCode(applied: string[], local: string[], where: string): void {
  const unknown = applied.filter((name) => !local.includes(name));
  if (unknown.length > 0) {
    throw new DatabaseMigrationError(
      "database-newer-than-code",
      `Database ${where} has migrations this code does not know (${unknown.join(", ")}): it was migrated by a newer version. ` +
        "Run a version of the code that includes them, or point DATABASE_URL at another database.",
      unknown,
    );
  }
}

const historyQuery = 'SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at';

/** The `_prisma_migrations` rows, or none on a fresh database. */
async function readAppliedMigrations(location: DatabaseLocation): Promise<AppliedMigration[]> {
  if (location.kind === "postgres") return readAppliedMigrationsPg(location);
  const adapter = await new PrismaBetterSqlite3({ url: location.url, timeout: 10_000 }).connect();
  try {
    const result = await adapter.queryRaw({
      sql: historyQuery,
      args: [],
      argTypes: [],
    });
    return result.rows.map((row) => ({ name: String(row[0]), finished: row[1] != null, rolledBack: row[2] != null }));
  } catch (error) {
    if (isDriverAdapterError(error) && error.cause.kind === "TableDoesNotExist") return [];
    if (/no such table/i.test(messageOf(error))) return [];
    throw new DatabaseMigrationError("engine-failed", `Could not read the migration history: ${messageOf(error)}`, [], { cause: error });
  } finally {
    await adapter.dispose();
  }
}

async function readAppliedMigrationsPg(location: PostgresLocation): Promise<AppliedMigration[]> {
  const client = await pgClient(location);
  try {
    await client.connect();
    const result = await client.query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(historyQuery);
    return result.rows.map((row) => ({ name: row.migration_name, finished: row.finished_at !== null, rolledBack: row.rolled_back_at !== null }));
  } catch (error) {
    // 42P01: undefined_table, a fresh database.
    if ((error as { code?: unknown }).code === "42P01") return [];
    throw new DatabaseMigrationError("engine-failed", `Could not read the migration history of ${location.display}: ${messageOf(error)}`, [], { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function run<T>(session: EngineSession, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof DatabaseMigrationError) throw error;
    throw new DatabaseMigrationError("engine-failed", `Schema engine: ${session.explain(error)}`, [], { cause: error });
  }
}
