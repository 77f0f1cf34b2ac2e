import { InMemoryRunRecorder, type NewApproval, type RunRecorder } from "@workflows/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newRun } from "../test/fixtures";
import { createTestDatabase, type TestDatabase } from "../test/databases";
import { openDatabase, type Database } from "./database";
import { PrismaRunRecorder } from "./recorder";

let testDb: TestDatabase;
let db: Database;
let recorder: PrismaRunRecorder;

beforeEach(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ url: testDb.url, busyTimeoutMs: 60_000 });
  recorder = new PrismaRunRecorder(db.prisma);
});
afterEach(async () => {
  await recorder.close();
  await db.close();
  await testDb.drop();
});

const approval = (approvalId: string, extra: Partial<NewApproval> = {}): NewApproval => ({
  approvalId,
  workflowRunId: "run-1",
  stepIndex: 0,
  agentKey: "billing_specialist",
  toolName: "issue_refund",
  callId: `call-${approvalId}`,
  arguments: '{"amount":42}',
  requestedAt: "2026-11-28T10:00:00.000Z",
  deadlineAt: "2026-11-28T11:00:00.000Z",
  state: '{"$schemaVersion":"1.22","x":1}',
  ...extra,
});

/** The same story on a recorder: pause, pause again (superseding), decide, decide twice. */
async function story(target: RunRecorder) {
  await target.createRun(newRun("run-1"));
  await target.savePause([approval("a1")]);
  // The step paused again (run again after a crash): the first approval is superseded.
  await target.savePause([approval("a2", { requestedAt: "2026-11-28T10:05:00.000Z", state: "s2" }), approval("a3", { requestedAt: "2026-11-28T10:05:00.000Z", state: "s2", deadlineAt: null })]);
  const won = await target.decideApproval("run-1", "a2", { status: "approved", reason: null, decidedBy: "local", decidedAt: "2026-11-28T10:06:00.000Z" });
  const again = await target.decideApproval("run-1", "a2", { status: "rejected", reason: "no", decidedBy: "local", decidedAt: "2026-11-28T10:07:00.000Z" });
  return { won, again, approvals: await target.listApprovals("run-1"), paused: await target.loadPausedStep("run-1", 0), none: await target.loadPausedStep("run-1", 1) };
}

describe("approvals in the database", () => {
  it("store, supersede and decide exactly as the in-memory recorder does", async () => {
    const stored = await story(recorder);
    expect(stored).toEqual(await story(new InMemoryRunRecorder()));
    expect(stored.won).toBe(true);
    expect(stored.again).toBe(false);
    expect(stored.approvals.map((a) => [a.approvalId, a.status, a.decidedBy])).toEqual([
      ["a1", "cancelled", "(superseded)"],
      ["a2", "approved", "local"],
      ["a3", "pending", null],
    ]);
    expect(stored.paused?.state).toBe("s2");
    expect(stored.paused?.approvals.map((a) => a.approvalId)).toEqual(["a2", "a3"]);
    expect(stored.none).toBeNull();
  });

  it("lists paused runs with their pending count and earliest deadline", async () => {
    await recorder.createRun(newRun("run-1"));
    await recorder.savePause([approval("a1"), approval("a2", { deadlineAt: "2026-11-28T10:30:00.000Z" })]);
    await recorder.append({ type: "run.started", workflowRunId: "run-1", workflowKey: "research", seq: 1, at: "2026-11-28T10:00:00.000Z", input: "x", versionHash: "v1", steps: [{ name: "s", agentKey: "billing_specialist" }] });
    expect(await recorder.pausedRuns()).toEqual([]);
    await recorder.append({ type: "run.awaiting_approval", workflowRunId: "run-1", workflowKey: "research", seq: 2, at: "2026-11-28T10:00:00.000Z", stepIndex: 0, approvalIds: ["a1", "a2"], deadlineAt: "2026-11-28T10:30:00.000Z", usage: { requests: 1, inputTokens: 1, outputTokens: 1, totalTokens: 2 } });
    expect(await recorder.pausedRuns()).toEqual([{ workflowRunId: "run-1", pending: 2, deadlineAt: "2026-11-28T10:30:00.000Z" }]);
    expect((await recorder.loadRun("run-1"))?.run.status).toBe("awaiting_approval");
  });
});
