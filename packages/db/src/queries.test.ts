import { InvalidInputError } from "@workflows/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newRun, succeededRun } from "../test/fixtures";
import { createTestDatabase, type TestDatabase } from "../test/databases";
import { openDatabase, type Database } from "./database";
import { findRunByIdempotencyKey, listEvents, listRuns } from "./queries";
import { PrismaRunRecorder } from "./recorder";

let testDb: TestDatabase;
let db: Database;
let recorder: PrismaRunRecorder;
const N = 1000;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ url: testDb.url });
  recorder = new PrismaRunRecorder(db.prisma);
  // Many runs share a millisecond, so the id tie-break is exercised.
  for (let i = 0; i < N; i++) await recorder.createRun(newRun(`run-${String(i).padStart(4, "0")}`, { workflowKey: i % 2 === 0 ? "even" : "odd", idempotencyKey: `key-${i}` }));
});
afterAll(async () => {
  await recorder.close();
  await db.close();
  await testDb.drop();
});

describe("listRuns", () => {
  it("pages over 1,000 runs newest first, every run exactly once", async () => {
    const seen: string[] = [];
    const created: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listRuns(db.prisma, { limit: 100, cursor });
      expect(page.items.length).toBeLessThanOrEqual(100);
      seen.push(...page.items.map((r) => r.id));
      created.push(...page.items.map((r) => r.createdAt));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(N);
    expect(new Set(seen).size).toBe(N);
    expect([...created].sort().reverse()).toEqual(created);
    expect(seen[0]).toBe("run-0999");
  });

  it("keeps the cursor stable when newer runs arrive between pages", async () => {
    const first = await listRuns(db.prisma, { workflowKey: "odd", limit: 10 });
    await recorder.createRun(newRun("zz-newer", { workflowKey: "odd" }));
    const second = await listRuns(db.prisma, { workflowKey: "odd", limit: 10, cursor: first.nextCursor });
    expect(second.items.map((r) => r.id)).not.toContain("zz-newer");
    expect(new Set([...first.items, ...second.items].map((r) => r.id)).size).toBe(20);
    await db.prisma.workflowRun.delete({ where: { id: "zz-newer" } });
  });

  it("filters by workflow key and status, defaults to 20 and caps at 100", async () => {
    const odd = await listRuns(db.prisma, { workflowKey: "odd" });
    expect(odd.items).toHaveLength(20);
    expect(odd.items.every((r) => r.workflowKey === "odd" && r.status === "pending")).toBe(true);
    expect((await listRuns(db.prisma, { limit: 1000 })).items).toHaveLength(100);
    expect((await listRuns(db.prisma, { status: "succeeded" })).items).toEqual([]);
  });

  it("rejects a cursor it did not issue", async () => {
    await expect(listRuns(db.prisma, { cursor: "not-a-cursor" })).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe("listEvents", () => {
  it("returns the events after a seq, in order and complete", async () => {
    const run = newRun("with-events");
    await recorder.createRun(run);
    const events = succeededRun(run, 10, 3);
    for (const e of events) await recorder.append(e);
    expect(await listEvents(db.prisma, run.id)).toEqual(events);
    expect(await listEvents(db.prisma, run.id, { afterSeq: 40 })).toEqual(events.slice(40));
    expect(await listEvents(db.prisma, run.id, { afterSeq: 5, limit: 3 })).toEqual(events.slice(5, 8));
    expect(await listEvents(db.prisma, run.id, { afterSeq: events.length })).toEqual([]);
  });
});

describe("findRunByIdempotencyKey", () => {
  it("finds the run created with the key, or null", async () => {
    expect((await findRunByIdempotencyKey(db.prisma, "key-7"))?.id).toBe("run-0007");
    expect(await findRunByIdempotencyKey(db.prisma, "unknown")).toBeNull();
  });
});
