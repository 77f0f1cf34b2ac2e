import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newRun, stamper } from "../test/fixtures";
import { createTestDatabase, type TestDatabase } from "../test/databases";
import { openDatabase, type Database } from "./database";
import { ServerInstances } from "./instances";
import { getRun, listChildRuns, listRuns } from "./queries";
import { PrismaRunRecorder } from "./recorder";

let testDb: TestDatabase;
let db: Database;

beforeEach(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ url: testDb.url });
});
afterEach(async () => {
  await db.close();
  await testDb.drop();
});

/** A parent run with two children (steps 1 and 3) and a grandchild under the first child, all `running`. */
async function family(recorder: PrismaRunRecorder) {
  await recorder.createRun(newRun("parent"));
  await recorder.createRun(newRun("child-3", { workflowKey: "child", parentRunId: "parent", parentStepIndex: 3 }));
  await recorder.createRun(newRun("child-1", { workflowKey: "child", parentRunId: "parent", parentStepIndex: 1 }));
  await recorder.createRun(newRun("grandchild", { workflowKey: "leaf", parentRunId: "child-1", parentStepIndex: 0 }));
  await recorder.createRun(newRun("other"));
  for (const id of ["parent", "child-3", "child-1", "grandchild", "other"]) {
    await recorder.append(stamper({ id, workflowKey: "x" })({ type: "run.started", input: "in", versionHash: "v1", steps: [{ name: "a", agentKey: "echo" }] }));
  }
}

describe("sub-workflow runs", () => {
  it("are stored with their parent run and step; a top-level run has none", async () => {
    const recorder = new PrismaRunRecorder(db.prisma);
    await family(recorder);
    await recorder.flush();
    expect((await getRun(db.prisma, "child-1"))?.run).toMatchObject({ id: "child-1", parentRunId: "parent", parentStepIndex: 1, status: "running" });
    expect((await getRun(db.prisma, "parent"))?.run).toMatchObject({ parentRunId: null, parentStepIndex: null });
    expect((await listChildRuns(db.prisma, "parent")).map((r) => [r.id, r.parentStepIndex])).toEqual([
      ["child-1", 1],
      ["child-3", 3],
    ]);
    expect(await listChildRuns(db.prisma, "other")).toEqual([]);
    await recorder.close();
  });

  it("are left out of runs.list by default; listed by parent, or with every run", async () => {
    const recorder = new PrismaRunRecorder(db.prisma);
    await family(recorder);
    await recorder.flush();
    const ids = async (options: Parameters<typeof listRuns>[1]) => (await listRuns(db.prisma, options)).items.map((r) => r.id).sort();
    expect(await ids({})).toEqual(["other", "parent"]);
    expect(await ids({ parent: "top", status: "running" })).toEqual(["other", "parent"]);
    expect(await ids({ parent: { workflowRunId: "parent" } })).toEqual(["child-1", "child-3"]);
    expect(await ids({ parent: "all" })).toEqual(["child-1", "child-3", "grandchild", "other", "parent"]);
    expect(await ids({ parent: "all", workflowKey: "child" })).toEqual(["child-1", "child-3"]);
    await recorder.close();
  });

  it("are not orphans of their own: recovery resumes the parent, which continues them", async () => {
    const dead = new ServerInstances(db.prisma, { host: "there", pid: 7, staleAfterMs: 30_000, pidAlive: () => true });
    await dead.register(new Date("2026-01-01T00:00:00Z"));
    const recorder = new PrismaRunRecorder(db.prisma, { owner: dead.id });
    await family(recorder);
    await recorder.close();
    const me = new ServerInstances(db.prisma, { host: "here", pid: 1, staleAfterMs: 30_000, pidAlive: () => true });
    await me.register();
    expect((await me.orphanedRuns()).sort()).toEqual(["other", "parent"]);
  });

  it("are interrupted with their parent, grandchildren too; finished children stay as they are", async () => {
    const recorder = new PrismaRunRecorder(db.prisma);
    await family(recorder);
    const stamp = stamper({ id: "child-3", workflowKey: "child" });
    stamp({ type: "run.started", input: "in", versionHash: "v1", steps: [] });
    await recorder.append({ ...stamp({ type: "run.completed", finalOutput: "done", structuredOutput: null, usage: { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 }, durationMs: 1 }) });
    const changed = await recorder.markInterrupted(["parent"], "The server stopped.");
    expect(changed.sort()).toEqual(["child-1", "grandchild", "parent"]);
    const status = async (id: string) => (await getRun(db.prisma, id))?.run.status;
    expect([await status("parent"), await status("child-1"), await status("grandchild"), await status("child-3"), await status("other")]).toEqual(["interrupted", "interrupted", "interrupted", "succeeded", "running"]);
    await recorder.close();
  });
});
