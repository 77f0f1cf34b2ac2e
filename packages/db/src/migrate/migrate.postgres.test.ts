import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, testPostgresServer, type TestDatabase } from "../../test/databases";
import { openDatabase } from "../database";
import { DatabaseMigrationError } from "../errors";
import { postgresMigrationsDir, postgresSchemaPath } from "../paths";
import { createMigration, migrateDatabase } from "./migrate";

const shipped = fs.readdirSync(postgresMigrationsDir).filter((n) => fs.statSync(path.join(postgresMigrationsDir, n)).isDirectory()).sort();

let testDb: TestDatabase;
let dir: string;
beforeEach(async () => {
  testDb = await createTestDatabase("postgres");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "wf-pg-migrate-"));
});
afterEach(async () => {
  await testDb.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A copy of the shipped migrations plus extra ones. */
function migrationsWith(extra: Record<string, string>): string {
  const target = path.join(dir, "migrations");
  fs.cpSync(postgresMigrationsDir, target, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) {
    fs.mkdirSync(path.join(target, name));
    fs.writeFileSync(path.join(target, name, "migration.sql"), sql);
  }
  return target;
}

describe("migrations on PostgreSQL", () => {
  it("applies every shipped migration to an empty database with native types, then is a no-op", async () => {
    expect(await migrateDatabase(testDb.url)).toEqual({ applied: shipped, alreadyApplied: [] });
    expect(await migrateDatabase(testDb.url)).toEqual({ applied: [], alreadyApplied: shipped });
    const tables = await query<{ table_name: string }>(testDb.url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(["WorkflowRun", "WorkflowRunStep", "WorkflowRunEventChunk", "TraceSpan", "ServerInstance", "ConversationItem", "_prisma_migrations"]));
  });

  it("lets servers that start together migrate once: the others wait, then find nothing to do", async () => {
    const results = await Promise.all([migrateDatabase(testDb.url), migrateDatabase(testDb.url), migrateDatabase(testDb.url)]);
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, shipped.length]);
    const rows = await query<{ n: string }>(testDb.url, 'SELECT count(*) AS n FROM "_prisma_migrations"');
    expect(Number(rows[0]!.n)).toBe(shipped.length);
  });

  it("refuses a database that has migrations the code does not know", async () => {
    await migrateDatabase(testDb.url, { migrationsDir: migrationsWith({ "29990101000000_from_the_future": 'CREATE TABLE "Future" ("id" INTEGER PRIMARY KEY);\n' }) });
    await expect(migrateDatabase(testDb.url)).rejects.toMatchObject({ problem: "database-newer-than-code", migrationNames: ["29990101000000_from_the_future"] });
    await expect(openDatabase({ url: testDb.url })).rejects.toBeInstanceOf(DatabaseMigrationError);
  });

  it("reports an unreachable server as a migration failure naming the URL without its password", async () => {
    const url = "postgres://someone:secret@127.0.0.1:1/nowhere";
    const error: unknown = await migrateDatabase(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseMigrationError);
    expect((error as Error).message).toContain("postgres://someone:***@127.0.0.1:1/nowhere");
    expect((error as Error).message).not.toContain("secret");
  });

  it("the committed migrations match the schema: creating a migration finds no change, and leaves no shadow database", async () => {
    const before = await query<{ datname: string }>(testPostgresServer()!, "SELECT datname FROM pg_database");
    const result = await createMigration("nothing", { url: testDb.url, migrationsDir: migrationsWith({}), schemaPath: postgresSchemaPath });
    expect(result).toEqual({ created: null, applied: shipped });
    const after = await query<{ datname: string }>(testPostgresServer()!, "SELECT datname FROM pg_database");
    expect(after.map((d) => d.datname).filter((n) => n.startsWith("prisma_shadow_"))).toEqual(before.map((d) => d.datname).filter((n) => n.startsWith("prisma_shadow_")));
  });
});
