import { defineWorkflow, type WorkflowEvent } from "@workflows/core";
import { openDatabase } from "@workflows/db";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { collect, isEnd, rejection, sseClient, startTestServer, tempDir, waitFor } from "./harness";
import { freePort, kill9, killChildren, startProcess } from "./processes";

const tmp = tempDir();
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  killChildren();
  for (const c of open.splice(0).reverse()) await c.close();
});
afterAll(() => tmp.remove());

const REQUEST = "Please refund 49 for order A-7, it arrived broken";


let n = 0;
async function server(durability: Parameters<typeof startTestServer>[0]["durability"] = {}) {
  const t = await startTestServer({ dbUrl: `${tmp.dbUrl}.approval-${++n}`, durability });
  open.push(t);
  return t;
}

/** The refund run, paused: its id and the pending approval's id. */
async function pausedRefund(client: ReturnType<typeof sseClient>) {
  const result = await client.workflows.run.mutate({ key: "refund_approval", input: REQUEST });
  expect(result.status).toBe("awaiting_approval");
  const got = await client.runs.get.query({ workflowRunId: result.workflowRunId });
  const pending = got.approvals.filter((a) => a.status === "pending");
  expect(pending).toHaveLength(1);
  return { workflowRunId: result.workflowRunId, approvalId: pending[0]!.approvalId };
}

describe("human approval over the API", () => {
  it("a parallel branch waiting for approval while another branch fails: the run fails, its approval ends cancelled (real database)", { timeout: 60_000 }, async () => {
    const refundOrFail = defineWorkflow({
      key: "refund_or_fail",
      displayName: "Refund beside a failing branch",
      description: "test",
      steps: [
        {
          kind: "parallel",
          name: "both",
          branches: [
            // As refund_approval asks: the offline specialist then calls issue_refund, which needs approval.
            { name: "refund", agentKey: "billing_specialist", maxTurns: 4, inputMapper: (ctx) => `Refund request: ${ctx.input}\n\nReview it; if the refund is justified, issue it with issue_refund.` },
            { name: "broken", kind: "code", retry: { maxAttempts: 1 }, run: () => Promise.reject(new Error("down")) },
          ],
          reduce: { name: "sum_up", kind: "code", run: (ctx) => ctx.previousOutput },
        },
      ],
    });
    const t = await startTestServer({ dbUrl: `${tmp.dbUrl}.approval-${++n}`, workflows: [refundOrFail] });
    open.push(t);
    const result = await t.sse.workflows.run.mutate({ key: "refund_or_fail", input: REQUEST });
    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("CODE_ERROR");
    const got = await t.sse.runs.get.query({ workflowRunId: result.workflowRunId });
    expect(got.approvals).toHaveLength(1);
    expect(got.approvals[0]).toMatchObject({ toolName: "issue_refund", status: "cancelled", decidedBy: "system" });
    const events = (await collect(t.sse.runs.events.subscribe({ workflowRunId: result.workflowRunId }), { until: isEnd })).map((e) => e.data as WorkflowEvent);
    expect(events.slice(-2).map((e) => e.type)).toEqual(["step.approval_resolved", "run.failed"]);
    expect(await t.sse.runs.list.query({ status: "awaiting_approval" })).toMatchObject({ items: [] });
    const late = await rejection(t.sse.runs.approve.mutate({ workflowRunId: result.workflowRunId, approvalId: got.approvals[0]!.approvalId, approved: true }));
    expect(late.data?.code).toBe("CONFLICT");
  });

  it("refund_approval pauses on the offline model; runs.approve continues it on the same stream and seq", { timeout: 60_000 }, async () => {
    const t = await server();
    const { workflowRunId, approvalId } = await pausedRefund(t.sse);
    const listed = await t.sse.runs.list.query({ status: "awaiting_approval" });
    expect(listed.items.map((r) => r.workflowRunId)).toContain(workflowRunId);
    // A subscriber from the start sees the pause, then the decision and the rest of the run, without a gap.
    const events: WorkflowEvent[] = [];
    const following = collect(t.sse.runs.events.subscribe({ workflowRunId }), {
      until: isEnd,
      onValue: (e) => events.push(e.data as WorkflowEvent),
      timeoutMs: 50_000,
    });
    await waitFor(() => events.some((e) => e.type === "run.awaiting_approval"));
    const requested = events.find((e) => e.type === "step.approval_requested");
    expect(requested).toMatchObject({ approvalId, stepIndex: 0, agentKey: "billing_specialist", toolName: "issue_refund" });
    expect(JSON.parse((requested as { arguments: string }).arguments)).toMatchObject({ amount: 49 });
    const decided = await t.sse.runs.approve.mutate({ workflowRunId, approvalId, approved: true });
    expect(decided).toMatchObject({ workflowRunId, approvalId, approved: true, decidedBy: "local", resumed: true });
    // Alone, the server answers once the run is claimed again, as runs.resume does. With a queue (PostgreSQL), once
    // the run is queued: whichever instance takes it claims it later.
    expect(t.services.queue ? ["awaiting_approval", "running", "succeeded"] : ["running", "succeeded"]).toContain(decided.status);
    await following;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["step.approval_resolved", "run.resumed", "run.completed"]));
    expect(events.find((e) => e.type === "step.approval_resolved")).toMatchObject({ approvalId, approved: true, decidedBy: "local" });
    expect(events.at(-1)?.type).toBe("run.completed");
    const done = await t.sse.runs.get.query({ workflowRunId });
    expect(done.run.status).toBe("succeeded");
    expect(done.steps[0]?.output).toContain("issue_refund returned refunded = true");
    expect(done.approvals).toMatchObject([{ approvalId, status: "approved", decidedBy: "local" }]);
  });

  it("deciding twice is CONFLICT, an unknown approval NOT_FOUND, a run not awaiting CONFLICT; a rejection reaches the agent", { timeout: 60_000 }, async () => {
    const t = await server();
    const { workflowRunId, approvalId } = await pausedRefund(t.sse);
    const unknown = await rejection(t.sse.runs.approve.mutate({ workflowRunId, approvalId: "no-such-approval", approved: true }));
    expect(unknown.data?.code).toBe("NOT_FOUND");
    expect(unknown.message).toContain('Unknown approval "no-such-approval"');
    const unknownRun = await rejection(t.sse.runs.approve.mutate({ workflowRunId: "no-such-run", approvalId, approved: true }));
    expect(unknownRun.data?.code).toBe("NOT_FOUND");
    const resumed = await rejection(t.sse.runs.resume.mutate({ workflowRunId }));
    expect(resumed.data?.code).toBe("CONFLICT");
    expect(resumed.message).toContain("awaiting approval");
    await t.sse.runs.approve.mutate({ workflowRunId, approvalId, approved: false, reason: "not eligible" });
    const twice = await rejection(t.sse.runs.approve.mutate({ workflowRunId, approvalId, approved: true }));
    expect(twice.data?.code).toBe("CONFLICT");
    expect(twice.message).toContain("already rejected by local");
    await collect(t.sse.runs.events.subscribe({ workflowRunId }), { until: isEnd });
    const done = await t.sse.runs.get.query({ workflowRunId });
    expect(done.run.status).toBe("succeeded");
    expect(done.steps[0]?.output).toContain("Tool execution was not approved: not eligible");
    const bad = await rejection(t.sse.runs.approve.mutate({ workflowRunId, approvalId: "", approved: true }));
    expect(bad.data?.code).toBe("BAD_REQUEST");
  });

  it("a run awaiting approval is cancelled by runs.cancel; its approval can no longer be decided", { timeout: 60_000 }, async () => {
    const t = await server();
    const { workflowRunId, approvalId } = await pausedRefund(t.sse);
    expect(await t.sse.runs.cancel.mutate({ workflowRunId })).toEqual({ workflowRunId, status: "cancelled" });
    const late = await rejection(t.sse.runs.approve.mutate({ workflowRunId, approvalId, approved: true }));
    expect(late.data?.code).toBe("CONFLICT");
    const got = await t.sse.runs.get.query({ workflowRunId });
    expect(got.approvals).toMatchObject([{ status: "cancelled", decidedBy: "local" }]);
    const events = (await collect(t.sse.runs.events.subscribe({ workflowRunId }), { until: isEnd })).map((e) => e.data as WorkflowEvent);
    expect(events.slice(-2)).toMatchObject([
      { type: "step.approval_resolved", approvalId, approved: false, decidedBy: "local" },
      { type: "run.cancelled", by: "local" },
    ]);
  });

  it("a deadline that passed while no server ran expires at the next start-up: the run fails with APPROVAL_TIMEOUT", { timeout: 60_000 }, async () => {
    const dbUrl = `${tmp.dbUrl}.approval-deadline`;
    const first = await startTestServer({ dbUrl });
    const { workflowRunId } = await pausedRefund(first.sse);
    await first.close();
    // A day went by: the stored deadline (24 h for refund_approval) is now in the past.
    const db = await openDatabase({ url: dbUrl });
    await db.prisma.workflowRunApproval.updateMany({ where: { runId: workflowRunId }, data: { deadlineAt: new Date(Date.now() - 1_000) } });
    await db.close();
    const second = await startTestServer({ dbUrl });
    open.push(second);
    await collect(second.sse.runs.events.subscribe({ workflowRunId }), { until: isEnd });
    const got = await second.sse.runs.get.query({ workflowRunId });
    expect(got.run.status).toBe("failed");
    expect(got.run.error).toMatchObject({ code: "APPROVAL_TIMEOUT" });
    expect(got.approvals).toMatchObject([{ status: "expired", decidedBy: "timeout" }]);
  });

  it("a run awaiting approval survives kill -9 of its server process: not interrupted at restart, approved on the new process", { timeout: 180_000 }, async () => {
    const port = await freePort();
    const env = { PORT: String(port), DATABASE_URL: await tmp.ensure(`${tmp.dbUrl}.approval-kill`), HEARTBEAT_INTERVAL_MS: "200", OWNER_TIMEOUT_MS: "1000" };
    const first = await startProcess(env);
    const client = sseClient(`http://127.0.0.1:${port}/trpc`);
    const { workflowRunId, approvalId } = await pausedRefund(client);
    await kill9(first);
    await startProcess(env);
    // The restarted server swept for orphans before it listened: the run still waits.
    const after = await client.runs.get.query({ workflowRunId });
    expect(after.run.status).toBe("awaiting_approval");
    await client.runs.approve.mutate({ workflowRunId, approvalId, approved: true });
    const events = await collect(client.runs.events.subscribe({ workflowRunId }), { until: isEnd, timeoutMs: 60_000 });
    expect(events.at(-1)?.data.type).toBe("run.completed");
    expect(events.map((e) => e.data.seq)).toEqual(events.map((_, i) => i + 1));
    expect((await client.runs.get.query({ workflowRunId })).run.status).toBe("succeeded");
  });
});
