// The event_chunks migration on a database that holds event rows (one per event, as every release before it
// wrote them): a finished run and a live one read the same after the upgrade, the finished one is packed by
// the recorder's sweep, and the live one goes on appending after its old events.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { WorkflowEvent } from "@workflows/core";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/databases";
import { newRun, succeededRun } from "../../test/fixtures";
import { openDatabase, type Database } from "../database";
import { migrationsDir, postgresMigrationsDir } from "../paths";
import { listEvents } from "../queries";
import { PrismaRunRecorder } from "../recorder";

let testDb: TestDatabase;
let dir: string;
const opened: Database[] = [];
beforeEach(async () => {
  testDb = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "wf-chunks-"));
});
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
  await testDb.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The shipped migrations before event_chunks. */
function migrationsBeforeChunks(): string {
  const shipped = testDb.kind === "sqlite" ? migrationsDir : postgresMigrationsDir;
  const target = path.join(dir, "older");
  fs.cpSync(shipped, target, { recursive: true });
  const chunks = fs.readdirSync(target).filter((name) => name.endsWith("_event_chunks"));
  expect(chunks).toHaveLength(1);
  fs.rmSync(path.join(target, chunks[0]!), { recursive: true });
  return target;
}

/** Writes events as the releases before chunks did: one WorkflowRunEvent row each, and the run's lastSeq. */
async function writeEventRows(db: Database, events: WorkflowEvent[], status: string): Promise<void> {
  for (const e of events) {
    const payload = JSON.stringify(e);
    const stepIndex = "stepIndex" in e ? e.stepIndex : null;
    await db.prisma.$executeRaw`INSERT INTO "WorkflowRunEvent" ("runId", "seq", "type", "stepIndex", "payload", "at") VALUES (${e.workflowRunId}, ${e.seq}, ${e.type}, ${stepIndex}, ${payload}, ${new Date(e.at)})`;
  }
  await db.prisma.$executeRaw`UPDATE "WorkflowRun" SET "status" = ${status}, "lastSeq" = ${events.at(-1)!.seq} WHERE "id" = ${events[0]!.workflowRunId}`;
}

const open = async (migrations?: string): Promise<Database> => {
  const db = await openDatabase({ url: testDb.url, ...(migrations ? { migrationsDir: migrations } : {}) });
  opened.push(db);
  return db;
};

it("keeps every event of the runs stored before it, finished or live, and the live one goes on", { timeout: 120_000 }, async () => {
  const older = await open(migrationsBeforeChunks());
  const [done, live] = [newRun("run-done"), newRun("run-live")];
  const creator = new PrismaRunRecorder(older.prisma);
  for (const run of [done, live]) await creator.createRun(run);
  await creator.close();
  const doneEvents = succeededRun(done, 2, 3);
  const liveEvents = succeededRun(live, 3, 2);
  const cut = 6; // the live run stopped here when the server was upgraded
  await writeEventRows(older, doneEvents, "succeeded");
  await writeEventRows(older, liveEvents.slice(0, cut), "running");
  await older.close();
  opened.length = 0;

  const db = await open();
  expect(await db.prisma.workflowRunEventChunk.count()).toBe(doneEvents.length + cut);
  expect(await listEvents(db.prisma, "run-done")).toEqual(doneEvents);
  expect(await listEvents(db.prisma, "run-done", { afterSeq: 2, limit: 3 })).toEqual(doneEvents.slice(2, 5));
  expect(await listEvents(db.prisma, "run-live")).toEqual(liveEvents.slice(0, cut));

  const recorder = new PrismaRunRecorder(db.prisma);
  // The sweep packs the finished run's old rows.
  expect(await recorder.packLeftovers()).toBe(1);
  expect(await db.prisma.workflowRunPack.findMany({ select: { runId: true, firstSeq: true, lastSeq: true } })).toEqual([{ runId: "run-done", firstSeq: 1, lastSeq: doneEvents.length }]);
  expect(await listEvents(db.prisma, "run-done")).toEqual(doneEvents);
  // The live run appends after its old events, then is packed when it ends.
  for (const e of liveEvents.slice(cut)) await recorder.append(e);
  await recorder.close();
  expect(await listEvents(db.prisma, "run-live")).toEqual(liveEvents);
  expect(await listEvents(db.prisma, "run-live", { afterSeq: cut - 1, limit: 2 })).toEqual(liveEvents.slice(cut - 1, cut + 1));
  expect(await db.prisma.workflowRunEventChunk.count()).toBe(0);
});
