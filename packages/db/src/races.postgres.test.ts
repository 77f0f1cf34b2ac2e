// Races that SQLite hides (one writer at a time per file) played on PostgreSQL, where every recorder has its own
// pool and transactions really run side by side. On SQLite, two connections of one process would deadlock
// in the busy handler (the driver is synchronous); the two-process test in recorder.test.ts covers SQLite.
import { ConflictError } from "@workflows/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../test/databases";
import { newRun, succeededRun } from "../test/fixtures";
import { openDatabase, type Database } from "./database";
import { getRun, listEvents } from "./queries";
import { PrismaRunRecorder } from "./recorder";

let testDb: TestDatabase;
let db: Database;
let recorder: PrismaRunRecorder;

beforeEach(async () => {
  testDb = await createTestDatabase("postgres");
  db = await openDatabase({ url: testDb.url });
  recorder = new PrismaRunRecorder(db.prisma);
});
afterEach(async () => {
  await recorder.close();
  await db.close();
  await testDb.drop();
});

describe("two writers on one run, each with its own connection", () => {
  it("store each seq once: for every event both append, one wins and the other gets ConflictError", async () => {
    const other = await openDatabase({ url: testDb.url });
    try {
      const second = new PrismaRunRecorder(other.prisma);
      const input = newRun("contested");
      await recorder.createRun(input);
      const events = succeededRun(input, 3, 3);
      const outcomes: string[] = [];
      for (const event of events) {
        const settled = await Promise.allSettled([recorder.append(event), second.append({ ...event })]);
        expect(settled.filter((r) => r.status === "fulfilled"), `seq ${event.seq}`).toHaveLength(1);
        const rejected = settled.find((r) => r.status === "rejected");
        expect(rejected?.reason, `seq ${event.seq}`).toBeInstanceOf(ConflictError);
        outcomes.push(settled[0].status === "fulfilled" ? "first" : "second");
      }
      await second.close();
      expect(await listEvents(db.prisma, "contested")).toEqual(events);
      expect((await getRun(db.prisma, "contested"))!.run).toMatchObject({ status: "succeeded", lastSeq: events.length });
      // Not a requirement, but a sign the race was real: print who won, for whoever reads the log.
      expect(outcomes).toHaveLength(events.length);
    } finally {
      await other.close();
    }
  });
});

describe("one idempotency key raced by several instances", () => {
  it("gives exactly one run, and every instance gets that run", async () => {
    const others = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ url: testDb.url })));
    try {
      const recorders = [recorder, ...others.map((o) => new PrismaRunRecorder(o.prisma))];
      for (let round = 0; round < 5; round++) {
        const key = `race-${round}`;
        const results = await Promise.all(recorders.map((r, i) => r.createRun(newRun(`run-${round}-${i}`, { idempotencyKey: key, input: "same" }))));
        expect(results.filter((r) => r.status === "created")).toHaveLength(1);
        expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
      }
      expect(await db.prisma.workflowRun.count()).toBe(5);
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
  });
});
