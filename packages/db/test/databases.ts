// Databases for tests: a SQLite file in a temp folder, or a fresh database on the PostgreSQL server named by
// TEST_PG_URL. Suites run once per kind (vitest projects set TEST_DATABASE); each test that needs a database
// makes its own, so tests never share state.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export type TestDatabaseKind = "sqlite" | "postgres";
export type TestDatabase = { kind: TestDatabaseKind; url: string; drop(): Promise<void> };

/** The kind this suite runs on: `TEST_DATABASE`, default sqlite. */
export function testDatabaseKind(): TestDatabaseKind {
  return process.env.TEST_DATABASE === "postgres" ? "postgres" : "sqlite";
}

/** The PostgreSQL server for tests (an admin URL, e.g. postgres://postgres@127.0.0.1:5432/postgres), if any. */
export function testPostgresServer(): string | undefined {
  const url = process.env.TEST_PG_URL;
  return url === undefined || url === "" ? undefined : url;
}

/** A new empty database of the suite's kind (or of `kind`). `drop()` deletes it. */
export async function createTestDatabase(kind: TestDatabaseKind = testDatabaseKind()): Promise<TestDatabase> {
  if (kind === "sqlite") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wf-test-db-"));
    return { kind, url: `file:${path.join(dir, "test.db")}`, drop: () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true })) };
  }
  const server = testPostgresServer();
  if (!server) throw new Error("TEST_DATABASE=postgres needs TEST_PG_URL: the URL of a PostgreSQL server to create test databases on (scripts/postgres.sh starts one).");
  const name = `wf_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await admin(server, `CREATE DATABASE "${name}"`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { kind, url: url.toString(), drop: () => admin(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

async function admin(server: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
