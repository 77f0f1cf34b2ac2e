import fs from "node:fs";
import path from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { isDriverAdapterError } from "@prisma/driver-adapter-utils";
import { DatabaseMigrationError } from "../errors";
import { migrationsDir as shippedMigrationsDir, schemaPath as shippedSchemaPath } from "../paths";
import { resolveSqliteUrl } from "../url";
import { messageOf, noFilters, openSchemaEngine, readMigrationsList, type EngineSession } from "./engine";

export type MigrateOptions = {
  /** Migrations folder; defaults to the one shipped in this package. */
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

/**
 * Applies the migrations the database lacks. Refuses with `DatabaseMigrationError("database-newer-than-code")`
 * when the database records migrations this code does not ship. Loads the schema engine only when needed.
 */
export async function migrateDatabase(url?: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const location = resolveSqliteUrl(url);
  const dir = options.migrationsDir ?? shippedMigrationsDir;
  const log = options.log ?? (() => undefined);
  fs.mkdirSync(path.dirname(location.path), { recursive: true });

  const local = readMigrationsList(dir).migrationDirectories.map((d) => d.path);
  const history = await readAppliedMigrations(location.url);
  const applied = history.filter((m) => m.finished && !m.rolledBack).map((m) => m.name);
  assertNotNewerThanCode(applied, local, location.path);

  const pending = local.filter((name) => !applied.includes(name));
  if (pending.length === 0) {
    log(`Database ${location.path} is up to date (${applied.length} migrations).`);
    return { applied: [], alreadyApplied: applied };
  }
  log(`Applying ${pending.length} migration(s) to ${location.path}: ${pending.join(", ")}`);
  const session = await openEngine(location.url);
  try {
    const out = await run(session, () => session.engine.applyMigrations({ migrationsList: readMigrationsList(dir), filters: noFilters }));
    for (const name of out.appliedMigrationNames) log(`  applied ${name}`);
    return { applied: out.appliedMigrationNames, alreadyApplied: applied };
  } finally {
    await session.close();
  }
}

export type CreateMigrationResult = {
  /** Folder name of the new migration, or null when the schema had no changes. */
  created: string | null;
  applied: string[];
};

/** `migrate dev`: writes a migration for the schema's changes (if any) and applies everything pending. */
export async function createMigration(
  name: string,
  options: MigrateOptions & { url?: string; schemaPath?: string } = {},
): Promise<CreateMigrationResult> {
  const location = resolveSqliteUrl(options.url);
  const dir = options.migrationsDir ?? shippedMigrationsDir;
  const schemaFile = options.schemaPath ?? shippedSchemaPath;
  const log = options.log ?? (() => undefined);
  const migrationName = name.trim().replace(/[^A-Za-z0-9_]+/g, "_");
  if (migrationName === "") throw new DatabaseMigrationError("engine-failed", "A migration needs a name, e.g. `pnpm db:migrate add_runs`.");

  // Bring the database up to date first: the engine requires it and refuses nothing newer than us.
  const before = await migrateDatabase(location.url, { migrationsDir: dir, log });
  const schema = { path: schemaFile, content: fs.readFileSync(schemaFile, "utf8") };
  const session = await openEngine(location.url, schema);
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

function assertNotNewerThanCode(applied: string[], local: string[], dbPath: string): void {
  const unknown = applied.filter((name) => !local.includes(name));
  if (unknown.length > 0) {
    throw new DatabaseMigrationError(
      "database-newer-than-code",
      `Database ${dbPath} has migrations this code does not know (${unknown.join(", ")}): it was migrated by a newer version. ` +
        "Run a version of the code that includes them, or point DATABASE_URL at another database.",
      unknown,
    );
  }
}

/** The `_prisma_migrations` rows, or none on a fresh database. */
async function readAppliedMigrations(url: string): Promise<AppliedMigration[]> {
  const adapter = await new PrismaBetterSqlite3({ url, timeout: 10_000 }).connect();
  try {
    const result = await adapter.queryRaw({
      sql: "SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at",
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

async function openEngine(url: string, schema?: { path: string; content: string }): Promise<EngineSession> {
  const datamodel = schema ?? { path: shippedSchemaPath, content: fs.readFileSync(shippedSchemaPath, "utf8") };
  return openSchemaEngine({ url, schema: datamodel });
}

async function run<T>(session: EngineSession, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof DatabaseMigrationError) throw error;
    throw new DatabaseMigrationError("engine-failed", `Schema engine: ${session.explain(error)}`, [], { cause: error });
  }
}
