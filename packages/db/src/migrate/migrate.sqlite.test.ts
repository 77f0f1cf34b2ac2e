import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tempDir } from "../../test/fixtures";
import { openDatabase } from "../database";
import { DatabaseMigrationError } from "../errors";
import { migrationsDir, schemaPath } from "../paths";
import { createMigration, migrateDatabase } from "./migrate";

const shipped = fs.readdirSync(migrationsDir).filter((n) => fs.statSync(path.join(migrationsDir, n)).isDirectory()).sort();
const first = shipped[0]!;

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("wf-migrate-")));
afterEach(() => tmp.remove());

/** A migrations folder holding the given shipped migrations plus extra ones. */
function migrationsWith(name: string, shippedNames: string[], extra: Record<string, string> = {}): string {
  const dir = path.join(tmp.dir, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(migrationsDir, "migration_lock.toml"), path.join(dir, "migration_lock.toml"));
  for (const n of shippedNames) fs.cpSync(path.join(migrationsDir, n), path.join(dir, n), { recursive: true });
  for (const [n, sql] of Object.entries(extra)) {
    fs.mkdirSync(path.join(dir, n));
    fs.writeFileSync(path.join(dir, n, "migration.sql"), sql);
  }
  return dir;
}

const tables = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
};

describe("migrateDatabase", () => {
  it("applies every shipped migration to an empty database, then is a no-op", async () => {
    const url = tmp.url("fresh/nested/app.db");
    expect(await migrateDatabase(url)).toEqual({ applied: shipped, alreadyApplied: [] });
    expect(tables(url.slice(5))).toEqual(expect.arrayContaining(["WorkflowRun", "WorkflowRunStep", "WorkflowRunEventChunk", "TraceSpan", "ConversationItem", "_prisma_migrations"]));
    expect(await migrateDatabase(url)).toEqual({ applied: [], alreadyApplied: shipped });
  });

  it("upgrades a database left at an older migration set", async () => {
    const url = tmp.url();
    const older = migrationsWith("older", [first]);
    const newer = migrationsWith("newer", [first], { "29990101000000_add_notes": 'CREATE TABLE "Note" ("id" INTEGER NOT NULL PRIMARY KEY, "text" TEXT NOT NULL);\n' });
    expect((await migrateDatabase(url, { migrationsDir: older })).applied).toEqual([first]);
    expect((await migrateDatabase(url, { migrationsDir: newer })).applied).toEqual(["29990101000000_add_notes"]);
    expect(tables(url.slice(5))).toContain("Note");
  });

  it("refuses a database that has migrations the code does not know", async () => {
    const url = tmp.url();
    await migrateDatabase(url, { migrationsDir: migrationsWith("future", shipped, { "29990101000000_from_the_future": 'CREATE TABLE "Future" ("id" INTEGER NOT NULL PRIMARY KEY);\n' }) });
    const error: unknown = await migrateDatabase(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseMigrationError);
    expect(error).toMatchObject({ problem: "database-newer-than-code", migrationNames: ["29990101000000_from_the_future"], code: "STORAGE_ERROR" });
    expect((error as Error).message).toMatch(/newer version/);
    await expect(openDatabase({ url })).rejects.toBeInstanceOf(DatabaseMigrationError);
  });

  it("reports a failing migration as engine-failed with the database's reason", async () => {
    const url = tmp.url();
    const broken = migrationsWith("broken", shipped, { "29990101000000_broken": 'ALTER TABLE "Nope" ADD COLUMN "x" TEXT;\n' });
    await expect(migrateDatabase(url, { migrationsDir: broken })).rejects.toMatchObject({ problem: "engine-failed", message: expect.stringMatching(/Nope/) as unknown });
  });
});

describe("createMigration (pnpm db:migrate <name>)", () => {
  it("writes a migration for a schema change and applies it; unchanged schema creates nothing", async () => {
    const url = tmp.url();
    const dir = migrationsWith("dev", shipped);
    const schema = path.join(tmp.dir, "schema.prisma");
    fs.writeFileSync(schema, fs.readFileSync(schemaPath, "utf8").replace("  skipReason       String?", "  skipReason       String?\n  note             String?"));
    const result = await createMigration("add step note", { url, migrationsDir: dir, schemaPath: schema });
    expect(result.created).toMatch(/^\d{14}_add_step_note$/);
    expect(fs.readFileSync(path.join(dir, result.created!, "migration.sql"), "utf8")).toMatch(/note/);
    expect(result.applied).toEqual([...shipped, result.created]);
    expect(await createMigration("again", { url, migrationsDir: dir, schemaPath: schema })).toEqual({ created: null, applied: [] });
  });
});
