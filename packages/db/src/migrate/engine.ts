// The native Prisma schema engine cannot be downloaded here; its WebAssembly build, driven through a
// driver adapter, does the same work. This file hides the traps met on the way: three with SQLite, four
// with PostgreSQL (each named where it is handled).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import * as bg from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { MigrationList, SchemaEngine, SchemaFilter } from "@prisma/schema-engine-wasm/schema_engine_bg";
import { randomUUID } from "node:crypto";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import type { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  type ErrorCapturingSqlMigrationAwareDriverAdapterFactory,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
  type Transaction,
} from "@prisma/driver-adapter-utils";
import type { DatabaseLocation, PostgresLocation } from "../url";

export const noFilters: SchemaFilter = { externalTables: [], externalEnums: [] };

type EngineModule = typeof bg;
// The project's lib settings (ES2023, no DOM) do not declare WebAssembly; Node has it. Only this much is used.
type WasmApi = {
  instantiate(bytes: Uint8Array, imports: Record<string, Record<string, unknown>>): Promise<{ instance: { exports: Record<string, unknown> } }>;
};
const wasmApi = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
let engineModule: Promise<EngineModule> | undefined;

/** Instantiates the wasm module once per process (wasm-bindgen keeps it in module state). */
function loadEngineModule(): Promise<EngineModule> {
  engineModule ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmPath = path.join(path.dirname(require.resolve("@prisma/schema-engine-wasm")), "schema_engine_bg.wasm");
    const imports = { "./schema_engine_bg.js": bg as unknown as Record<string, unknown> };
    const { instance } = await wasmApi().instantiate(await fs.promises.readFile(wasmPath), imports);
    bg.__wbg_set_wasm(instance.exports);
    const start = instance.exports.__wbindgen_start;
    if (typeof start === "function") (start as () => void)();
    return bg;
  })();
  return engineModule;
}

/**
 * better-sqlite3 prepares one statement per call, but the engine replays a whole migration.sql into the
 * shadow database with one `executeRaw`; a parameterless multi-statement query goes to `executeScript`.
 */
class ScriptFallbackAdapter implements SqlDriverAdapter {
  readonly provider: SqlDriverAdapter["provider"];
  readonly adapterName: string;
  constructor(private readonly inner: SqlDriverAdapter) {
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
  }
  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return this.inner.queryRaw(query);
  }
  async executeRaw(query: SqlQuery): Promise<number> {
    try {
      return await this.inner.executeRaw(query);
    } catch (error) {
      if (query.args.length === 0 && /more than one statement/i.test(messageOf(error))) {
        await this.inner.executeScript(query.sql);
        return 0;
      }
      throw error;
    }
  }
  executeScript(script: string): Promise<void> {
    return this.inner.executeScript(script);
  }
  startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    return this.inner.startTransaction(isolationLevel);
  }
  getConnectionInfo() {
    return this.inner.getConnectionInfo?.() ?? { supportsRelationJoins: false };
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

/** Adapter factory for the engine; remembers every connection so `disposeAll` can close the files. */
class SqliteMigrationFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = "sqlite" as const;
  readonly adapterName: string;
  readonly #inner: PrismaBetterSqlite3;
  readonly #opened: SqlDriverAdapter[] = [];
  constructor(url: string) {
    this.#inner = new PrismaBetterSqlite3({ url, timeout: 10_000 });
    this.adapterName = this.#inner.adapterName;
  }
  async connect(): Promise<SqlDriverAdapter> {
    return this.#track(await this.#inner.connect());
  }
  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    return this.#track(await this.#inner.connectToShadowDb());
  }
  async disposeAll(): Promise<void> {
    for (const adapter of this.#opened.splice(0)) await adapter.dispose().catch(() => undefined);
  }
  #track(adapter: SqlDriverAdapter): SqlDriverAdapter {
    const wrapped = new ScriptFallbackAdapter(adapter);
    this.#opened.push(wrapped);
    return wrapped;
  }
}

/**
 * Adapter factory for the engine on PostgreSQL. Connections are built from discrete fields: adapter-pg's
 * shadow connection copies the config with another `database`, and pg lets a connectionString win over it,
 * which would make the "shadow" database the main one. The shadow database is created and dropped here:
 * adapter-pg drops it before closing its pool, which fails and leaks `prisma_migrate_shadow_db_*`.
 */
class PostgresMigrationFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = "postgres" as const;
  readonly adapterName: string;
  readonly #location: PostgresLocation;
  readonly #opened: SqlDriverAdapter[] = [];
  readonly #cleanups: (() => Promise<void>)[] = [];
  readonly #PrismaPg: typeof PrismaPg;
  constructor(location: PostgresLocation, adapter: typeof PrismaPg) {
    this.#location = location;
    this.#PrismaPg = adapter;
    this.adapterName = new adapter(this.#config(location.database)).adapterName;
  }
  async connect(): Promise<SqlDriverAdapter> {
    return this.#track(await this.#open(this.#location.database));
  }
  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const main = await this.#open(this.#location.database);
    const name = `prisma_shadow_${randomUUID().replaceAll("-", "")}`;
    await main.executeScript(`CREATE DATABASE "${name}"`);
    const shadow = await this.#open(name);
    this.#cleanups.push(async () => {
      await shadow.dispose().catch(() => undefined);
      await main.executeScript(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await main.dispose().catch(() => undefined);
    });
    return new ScriptFallbackAdapter(shadow);
  }
  async disposeAll(): Promise<void> {
    for (const adapter of this.#opened.splice(0)) await adapter.dispose().catch(() => undefined);
    for (const cleanup of this.#cleanups.splice(0)) await cleanup();
  }
  #config(database: string) {
    const { host, port, user, password } = this.#location;
    return { host, port, user, database, max: 2, options: "-c TimeZone=UTC", ...(password === undefined ? {} : { password }) };
  }
  async #open(database: string): Promise<SqlDriverAdapter> {
    return relabelCharColumns(await new this.#PrismaPg(this.#config(database)).connect());
  }
  #track(adapter: SqlDriverAdapter): SqlDriverAdapter {
    const wrapped = new ScriptFallbackAdapter(adapter);
    this.#opened.push(wrapped);
    return wrapped;
  }
}

/**
 * The schema engine's pg_catalog queries return PostgreSQL's internal "char" type (OID 18, array 1002), which
 * adapter-pg cannot map ("Column type 'char' could not be deserialized"). Patches the adapter's pg round
 * trip (and its transactions') so those columns reach the type mapping as text and text[]; the values
 * already arrive as strings.
 */
function relabelCharColumns<T extends object>(queryable: T): T {
  const io = queryable as unknown as { performIO?: (query: SqlQuery) => Promise<{ fields?: { dataTypeID: number }[] }>; startTransaction?: (...args: unknown[]) => Promise<object> };
  const performIO = io.performIO?.bind(queryable);
  if (!performIO) throw new Error("adapter-pg changed: performIO is gone; the 'char' relabelling needs another hook.");
  io.performIO = async (query) => {
    const result = await performIO(query);
    for (const field of result.fields ?? []) {
      if (field.dataTypeID === 18) field.dataTypeID = 25;
      else if (field.dataTypeID === 1002) field.dataTypeID = 1009;
    }
    return result;
  };
  const startTransaction = io.startTransaction?.bind(queryable);
  if (startTransaction) io.startTransaction = async (...args) => relabelCharColumns(await startTransaction(...args));
  return queryable;
}

export type EngineSession = {
  engine: SchemaEngine;
  /** Turns the engine's opaque "External error id#N" into the driver's own message. */
  explain(error: unknown): string;
  close(): Promise<void>;
};

/** Opens the wasm schema engine on a database, with the datamodel it diffs against. */
export async function openSchemaEngine(options: { location: DatabaseLocation; schema: { path: string; content: string } }): Promise<EngineSession> {
  const wasm = await loadEngineModule();
  const { location } = options;
  // adapter-pg (and pg under it) is loaded for PostgreSQL only: a SQLite server never holds it in memory.
  const factory = location.kind === "sqlite" ? new SqliteMigrationFactory(location.url) : new PostgresMigrationFactory(location, (await import("@prisma/adapter-pg")).PrismaPg);
  const bound: ErrorCapturingSqlMigrationAwareDriverAdapterFactory = bindMigrationAwareSqlAdapterFactory(factory);
  const engine = await wasm.SchemaEngine.new({ datamodels: [[options.schema.path, options.schema.content]] }, () => undefined, bound);
  let closed = false;
  return {
    engine,
    explain(error) {
      const message = messageOf(error);
      const id = /External error id#(\d+)/.exec(message)?.[1];
      const external = id === undefined ? undefined : bound.errorRegistry.consumeError(Number(id));
      return external ? `${message} (${messageOf(external.error)})` : message;
    },
    async close() {
      if (closed) return;
      closed = true;
      engine.free();
      await factory.disposeAll();
    },
  };
}

/** Reads a migrations folder into the shape the engine takes. Folders sort by name (timestamp first). */
export function readMigrationsList(dir: string): MigrationList {
  const lockPath = path.join(dir, "migration_lock.toml");
  const names = fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  return {
    baseDir: dir,
    lockfile: { path: "migration_lock.toml", content: fs.existsSync(lockPath) ? fs.readFileSync(lockPath, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: names.map((name) => {
      const file = path.join(dir, name, "migration.sql");
      return {
        path: name,
        migrationFile: {
          path: "migration.sql",
          content: fs.existsSync(file) ? { tag: "ok", value: fs.readFileSync(file, "utf8") } : { tag: "error", value: `${file} is missing` },
        },
      };
    }),
  };
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") return error.message;
  return String(error);
}
