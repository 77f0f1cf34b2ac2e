// The SQLite hot paths (sqliteConnections.ts): the recorder writes on its own connection and the run reads
// on another, beside Prisma's. What a user would notice: reads stuck behind writes, or a writer that
// deadlocks the process waiting for a lock its own event loop must release.
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newRun, succeededRun } from "../test/fixtures";
import { createTestDatabase, type TestDatabase } from "../test/databases";
import { openDatabase, type Database as Db } from "./database";
import { getRun, listEvents } from "./queries";
import { PrismaRunRecorder } from "./recorder";

let testDb: TestDatabase;
let db: Db;
let recorder: PrismaRunRecorder;

beforeEach(async () => {
  testDb = await createTestDatabase("sqlite");
  db = await openDatabase({ url: testDb.url, busyTimeoutMs: 10_000 });
  recorder = new PrismaRunRecorder(db.prisma);
});
afterEach(async () => {
  await recorder.close();
  await db.close();
  await testDb.drop();
});

const fileOf = (url: string) => url.replace(/^file:/, "");

describe("SQLite connections", () => {
  it("reads a run while Prisma's connection holds a write transaction open, and the append waits for it instead of deadlocking", async () => {
    const input = newRun("run-r");
    const [first, second] = succeededRun(input);
    await recorder.createRun(input);
    await recorder.append(first!);

    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    // An interactive transaction that has written (so it holds the write lock) and stays open across turns.
    const transaction = db.prisma.$transaction(
      async (tx) => {
        await tx.serverInstance.create({ data: { id: "holder", host: "h", pid: 1, startedAt: new Date(), heartbeatAt: new Date() } });
        entered();
        await held;
      },
      { timeout: 20_000 },
    );
    await inside;

    const appended = recorder.append(second!);
    let stored = false;
    void appended.then(() => (stored = true));
    // The reads answer at once, from the last commit.
    expect((await getRun(db.prisma, "run-r"))?.run.lastSeq).toBe(1);
    expect((await listEvents(db.prisma, "run-r")).map((e) => e.seq)).toEqual([1]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stored).toBe(false);

    release();
    await transaction;
    await appended;
    expect((await listEvents(db.prisma, "run-r")).map((e) => e.seq)).toEqual([1, 2]);
  });

  it("waits for another process's write lock without blocking the event loop, then stores the event", async () => {
    const input = newRun("run-l");
    const [first] = succeededRun(input);
    await recorder.createRun(input);

    const other = new Database(fileOf(db.url));
    other.exec("BEGIN IMMEDIATE");
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const appended = recorder.append(first!);
    await new Promise((resolve) => setTimeout(resolve, 100));
    other.exec("COMMIT");
    other.close();
    await appended;
    clearInterval(ticker);
    expect(ticks).toBeGreaterThan(3);
    expect((await getRun(db.prisma, "run-l"))?.run.lastSeq).toBe(1);
  });

  it("gives up with STORAGE_ERROR when the lock is held longer than the busy timeout", async () => {
    await recorder.close();
    await db.close();
    db = await openDatabase({ url: testDb.url, busyTimeoutMs: 100 });
    recorder = new PrismaRunRecorder(db.prisma);
    const input = newRun("run-t");
    await recorder.createRun(input);
    const other = new Database(fileOf(db.url));
    other.exec("BEGIN IMMEDIATE");
    try {
      await expect(recorder.append(succeededRun(input)[0]!)).rejects.toMatchObject({ code: "STORAGE_ERROR" });
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
  });
});
