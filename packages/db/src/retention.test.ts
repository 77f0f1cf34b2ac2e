import type { WorkflowEvent } from "@workflows/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countStored, createTestDatabase, testDatabaseKind, type TestDatabase } from "../test/databases";
import { cancelledRun, failedRun, newRun, succeededRun } from "../test/fixtures";
import { openDatabase, type Database } from "./database";
import { getRun, listEvents, listSpans } from "./queries";
import { PrismaRunRecorder } from "./recorder";
import { deleteRun, pruneRuns } from "./retention";

let testDb: TestDatabase;
let db: Database;
let recorder: PrismaRunRecorder;

beforeEach(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ url: testDb.url });
  recorder = new PrismaRunRecorder(db.prisma);
});
afterEach(async () => {
  await recorder.close();
  await db.close();
  await testDb.drop();
});

const DAY = 86_400_000;
/** The fixtures' events happen on 2025-03-01; this moves a run's events (its end among them) to `at`. */
const endingAt = (events: WorkflowEvent[], at: number): WorkflowEvent[] => events.map((e, i) => ({ ...e, at: new Date(at - (events.length - i) * 7).toISOString() }));

async function record(id: string, events: WorkflowEvent[], spans = 2, parent?: { parentRunId: string; parentStepIndex: number }): Promise<void> {
  await recorder.createRun(newRun(id, parent ?? {}));
  for (const e of events) await recorder.append(e);
  for (let i = 0; i < spans; i++) {
    await recorder.recordSpan({ workflowRunId: id, stepIndex: null, traceId: "t", spanId: `${id}-s${i}`, parentId: null, kind: "agent", name: "x", startedAt: null, endedAt: null, error: null, data: {} });
  }
  // A finished run's events are packed after its last append resolved.
  await recorder.flush();
}

async function rowsOf(id: string) {
  const run = await getRun(db.prisma, id);
  return { run: run?.run.status ?? null, steps: run?.steps.length ?? 0, events: (await listEvents(db.prisma, id)).length, spans: (await listSpans(db.prisma, id)).length };
}

describe("pruneRuns", () => {
  it("deletes the runs that finished before the cutoff with all their rows, and keeps running, pending and recent ones whole", async () => {
    await record("old-ok", succeededRun(newRun("old-ok")));
    await record("old-failed", failedRun(newRun("old-failed")));
    await record("old-cancelled", cancelledRun(newRun("old-cancelled")));
    await record("running", succeededRun(newRun("running")).slice(0, 3));
    await recorder.createRun(newRun("pending"));
    await record("recent", endingAt(succeededRun(newRun("recent")), Date.now() + 30 * DAY));
    const keptBefore = { running: await rowsOf("running"), pending: await rowsOf("pending"), recent: await rowsOf("recent") };
    const doomed = [await rowsOf("old-ok"), await rowsOf("old-failed"), await rowsOf("old-cancelled")];
    const expected = {
      runs: 3,
      steps: doomed.reduce((n, r) => n + r.steps, 0),
      events: doomed.reduce((n, r) => n + r.events, 0),
      spans: doomed.reduce((n, r) => n + r.spans, 0),
    };
    expect(expected.events).toBeGreaterThan(10);

    const before = new Date(Date.now() + DAY);
    const dry = await pruneRuns(db, { before, dryRun: true });
    expect(dry).toEqual({ deleted: expected, batches: 0, dryRun: true });
    expect(await rowsOf("old-ok")).toEqual(doomed[0]);

    const result = await pruneRuns(db, { before, batchSize: 2 });
    expect(result).toEqual({ deleted: expected, batches: 2, dryRun: false });
    for (const id of ["old-ok", "old-failed", "old-cancelled"]) expect(await rowsOf(id)).toEqual({ run: null, steps: 0, events: 0, spans: 0 });
    expect({ running: await rowsOf("running"), pending: await rowsOf("pending"), recent: await rowsOf("recent") }).toEqual(keptBefore);
    expect(keptBefore.running.run).toBe("running");

    expect(await pruneRuns(db, { before })).toEqual({ deleted: { runs: 0, steps: 0, events: 0, spans: 0 }, batches: 0, dryRun: false });
  });

  // In one process, a second SQLite connection waiting for the write lock blocks the thread that holds it
  // (better-sqlite3 is synchronous): two SQLite sweepers are two processes, tested with `pnpm db:prune` (api).
  it.runIf(testDatabaseKind() === "postgres")("two sweepers at once on one database both succeed and together delete, and count, every run once", async () => {
    const N = 40;
    for (let i = 0; i < N; i++) await record(`r${String(i).padStart(2, "0")}`, succeededRun(newRun(`r${i}`), 1, 1).map((e) => ({ ...e, workflowRunId: `r${String(i).padStart(2, "0")}` })), 1);
    const events = (await countStored(db.prisma)).events;
    expect(events).toBeGreaterThanOrEqual(N * 5);
    const other = await openDatabase({ url: testDb.url });
    try {
      const before = new Date(Date.now() + DAY);
      const [a, b] = await Promise.all([pruneRuns(db, { before, batchSize: 3 }), pruneRuns(other, { before, batchSize: 3 })]);
      expect(a.deleted.runs + b.deleted.runs).toBe(N);
      expect(a.deleted.events + b.deleted.events).toBe(events);
      expect(a.deleted.spans + b.deleted.spans).toBe(N);
      expect(await db.prisma.workflowRun.count()).toBe(0);
      expect((await countStored(db.prisma)).events).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe("deleteRun", () => {
  it("deletes a finished run and says what went; refuses an unfinished run; does not know an unknown one", async () => {
    await record("done", succeededRun(newRun("done")));
    await record("busy", succeededRun(newRun("busy")).slice(0, 2));
    const rows = await rowsOf("done");
    expect(await deleteRun(db, "done")).toEqual({ status: "deleted", deleted: { runs: 1, steps: rows.steps, events: rows.events, spans: rows.spans } });
    expect(await rowsOf("done")).toEqual({ run: null, steps: 0, events: 0, spans: 0 });
    expect(await deleteRun(db, "busy")).toEqual({ status: "not_finished", runStatus: "running" });
    expect((await rowsOf("busy")).events).toBe(2);
    expect(await deleteRun(db, "done")).toEqual({ status: "not_found" });
  });
});

describe("sub-workflow runs", () => {
  /** `parent` with two children (one with a child of its own), every run finished long ago. */
  async function family(parent: string, endedAt?: number) {
    const at = (events: WorkflowEvent[]) => (endedAt === undefined ? events : endingAt(events, endedAt));
    await record(parent, at(succeededRun(newRun(parent))));
    await record(`${parent}-c1`, succeededRun(newRun(`${parent}-c1`)), 1, { parentRunId: parent, parentStepIndex: 0 });
    await record(`${parent}-c2`, failedRun(newRun(`${parent}-c2`)), 1, { parentRunId: parent, parentStepIndex: 1 });
    await record(`${parent}-c1-g`, succeededRun(newRun(`${parent}-c1-g`)), 1, { parentRunId: `${parent}-c1`, parentStepIndex: 0 });
    return [parent, `${parent}-c1`, `${parent}-c2`, `${parent}-c1-g`];
  }

  it("go with their parent when it is pruned, counted; the children of a recent parent stay, however old", async () => {
    const old = await family("old");
    const recent = await family("recent", Date.now() + 30 * DAY);
    const rows = await Promise.all(old.map(rowsOf));
    const expected = { runs: 4, steps: rows.reduce((n, r) => n + r.steps, 0), events: rows.reduce((n, r) => n + r.events, 0), spans: rows.reduce((n, r) => n + r.spans, 0) };
    const before = new Date(Date.now() + DAY);
    expect((await pruneRuns(db, { before, dryRun: true })).deleted).toEqual(expected);
    expect((await pruneRuns(db, { before })).deleted).toEqual(expected);
    for (const id of old) expect((await rowsOf(id)).run).toBeNull();
    for (const id of recent) expect((await rowsOf(id)).run).not.toBeNull();
  });

  it("are deleted with their parent by deleteRun, and never alone", async () => {
    const ids = await family("p");
    expect(await deleteRun(db, "p-c1")).toEqual({ status: "sub_workflow", parentRunId: "p" });
    expect((await rowsOf("p-c1")).run).toBe("succeeded");
    const result = await deleteRun(db, "p");
    expect(result).toMatchObject({ status: "deleted", deleted: { runs: 4 } });
    for (const id of ids) expect((await rowsOf(id)).run).toBeNull();
  });
});
