// Databases for tests: a SQLite file in a temp folder, or a fresh database on the PostgreSQL server named by
// TEST_PG_URL. Suites run once per kind (vitest projects set TEST_DATABASE); each test that needs a database
// makes its own, so tests never share state. Also: how many events and spans a database holds, for tests
// and benchmarks.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { PrismaClient } from "../src/client";

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

export type TestDatabaseFamily = {
  /** A database URL of the suite's kind; `${url}.anything` names another database of the family. */
  url: string;
  /** SQLite: the temp folder holding the family's files (for tests that read their bytes); null on PostgreSQL. */
  dir: string | null;
  /** Creates the family's database `url` names if it does not exist yet (SQLite: nothing to do; the file is created on open). */
  ensure(url: string): Promise<void>;
  /** Deletes every database of the family. */
  remove(): Promise<void>;
};

/**
 * A family of test databases for a test file that needs several (`${url}.restart`, `${url}.crash`, ...):
 * files in one temp folder on SQLite, databases named `wf_test_<id>…` on PostgreSQL.
 */
export function testDatabaseFamily(kind: TestDatabaseKind = testDatabaseKind()): TestDatabaseFamily {
  if (kind === "sqlite") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wf-test-db-"));
    return { url: `file:${path.join(dir, "test.db")}`, dir, ensure: () => Promise.resolve(), remove: () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true })) };
  }
  const server = testPostgresServer();
  if (!server) throw new Error("TEST_DATABASE=postgres needs TEST_PG_URL: the URL of a PostgreSQL server to create test databases on (scripts/postgres.sh starts one).");
  const prefix = `wf_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const base = new URL(server);
  base.pathname = `/${prefix}`;
  const nameOf = (url: string): string => {
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    if (!name.startsWith(prefix)) throw new Error(`${url} is not a database of this test family (${prefix}…)`);
    return name.replaceAll('"', "");
  };
  return {
    url: base.toString(),
    dir: null,
    ensure: async (url) => {
      const name = nameOf(url);
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      try {
        const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
        if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`).catch((error: unknown) => {
          // 42P04: created meanwhile by another caller.
          if ((error as { code?: unknown }).code !== "42P04") throw error;
        });
      } finally {
        await client.end();
      }
    },
    remove: async () => {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      try {
        const rows = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [prefix]);
        for (const { datname } of rows.rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

const eventsIn = (ranges: { firstSeq: number; lastSeq: number }[]) => ranges.reduce((n, r) => n + r.lastSeq - r.firstSeq + 1, 0);

/** How many events the chunk rows of a run (of every run without `runId`) hold: events not packed yet (src/runPacks.ts). */
export async function chunkedEvents(prisma: PrismaClient, runId?: string): Promise<number> {
  return eventsIn(await prisma.workflowRunEventChunk.findMany({ where: runId === undefined ? {} : { runId }, select: { firstSeq: true, lastSeq: true } }));
}

/** How many events and spans are stored, as chunks and rows or in packs (src/runPacks.ts). Flush the recorders first: a pack made between the reads counts twice. */
export async function countStored(prisma: PrismaClient): Promise<{ events: number; spans: number }> {
  const [events, spans, packs] = await Promise.all([chunkedEvents(prisma), prisma.traceSpan.count(), prisma.workflowRunPack.findMany({ select: { firstSeq: true, lastSeq: true, spanCount: true } })]);
  return { events: events + eventsIn(packs), spans: spans + packs.reduce((n, p) => n + p.spanCount, 0) };
}
