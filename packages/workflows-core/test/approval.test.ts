import { tool, type ModelRequest } from "@openai/agents-core";
import { AgentCatalog, requireApproval } from "@workflows/agents";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConflictError, InvalidWorkflowSpecError, NotFoundError, WorkflowRegistry, WorkflowRunner, type EventOf, type WorkflowEvent, type WorkflowSpec } from "../src";
import { FnModel, fnProvider, InMemoryRunRecorder, lastUserText, type Responder } from "../src/testing";

const refunds: string[] = [];
const refund = requireApproval(
  tool({
    name: "refund",
    description: "Refunds an amount.",
    parameters: z.object({ amount: z.number() }),
    execute: ({ amount }) => {
      refunds.push(String(amount));
      return `refunded ${amount}`;
    },
  }),
);
const catalog = new AgentCatalog([
  { key: "clerk", displayName: "Clerk", description: "Refunds.", instructions: "Clerk refunds.", tools: [refund] },
  { key: "echo", displayName: "Echo", description: "Echoes.", instructions: "Echo the input." },
]);

/** The function_call_result texts the model received so far. */
function toolResults(request: ModelRequest): string[] {
  if (typeof request.input === "string") return [];
  const textOf = (output: unknown): string => (typeof output === "string" ? output : typeof output === "object" && output !== null && "text" in output ? String(output.text) : JSON.stringify(output));
  return request.input.flatMap((i) => (i.type === "function_call_result" ? [textOf(i.output)] : []));
}

/** The clerk calls `refund` once (amount from the input), then reports what the tool said; echo echoes. */
const responder: Responder = (request) => {
  const text = lastUserText(request);
  if (request.tools.some((t) => t.name === "refund")) {
    const results = toolResults(request);
    if (results.length === 0) return { toolCall: { name: "refund", arguments: { amount: Number(/\d+/.exec(text)?.[0] ?? 0) } } };
    return { text: `clerk saw: ${results.join(" | ")}` };
  }
  return { text: `echo: ${text}` };
};

const flow = (approvalTimeoutMs?: number): WorkflowSpec => ({
  key: "refund_flow",
  displayName: "Refund",
  description: "test",
  steps: [
    { name: "refund", agentKey: "clerk", ...(approvalTimeoutMs ? { approvalTimeoutMs } : {}) },
    { name: "tell", agentKey: "echo" },
  ],
});

function setup(spec: WorkflowSpec = flow(), recorder = new InMemoryRunRecorder()) {
  const registry = WorkflowRegistry.create({ workflows: [spec], catalog });
  const model = new FnModel(responder);
  // A new runner per "process": nothing of a paused run may live in the runner that paused it.
  const newRunner = () => new WorkflowRunner({ registry, catalog, modelProvider: fnProvider(model), recorder });
  return { recorder, runner: newRunner(), newRunner };
}

const ofType = <T extends WorkflowEvent["type"]>(events: WorkflowEvent[], type: T) => events.filter((e): e is EventOf<T> => e.type === type);

describe("a tool that needs approval", () => {
  it("in a parallel stage whose other branch fails: the run fails and its approval ends cancelled, never left pending", async () => {
    const stage: WorkflowSpec = {
      key: "refund_flow",
      displayName: "Refund",
      description: "test",
      steps: [
        {
          kind: "parallel",
          name: "both",
          branches: [
            { name: "refund", agentKey: "clerk" },
            { name: "broken", kind: "code", retry: { maxAttempts: 1 }, run: () => Promise.reject(new Error("down")) },
          ],
          reduce: { name: "tell", agentKey: "echo" },
        },
      ],
    };
    const { runner, recorder } = setup(stage);
    refunds.length = 0;
    const result = await runner.run("refund_flow", "refund 7 please");
    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("CODE_ERROR");
    const events = recorder.get(result.workflowRunId).events;
    const [requested] = ofType(events, "step.approval_requested");
    expect(requested).toBeDefined();
    expect(await runner.listApprovals(result.workflowRunId)).toMatchObject([{ approvalId: requested?.approvalId, status: "cancelled", decidedBy: "system" }]);
    // Resolved before the run's terminal event, so a follower never sees a failed run with an open approval.
    expect(events.slice(-2).map((e) => e.type)).toEqual(["step.approval_resolved", "run.failed"]);
    expect(events.at(-2)).toMatchObject({ approvalId: requested?.approvalId, approved: false, expired: false, decidedBy: "system", stepName: "refund" });
    expect(refunds).toEqual([]);
    await expect(runner.decide(result.workflowRunId, { approvalId: requested!.approvalId, approved: true, decidedBy: "op" })).rejects.toBeInstanceOf(ConflictError);
  });

  it("pauses the run: awaiting_approval, one step.approval_requested, the tool not run", async () => {
    const { runner, recorder } = setup();
    refunds.length = 0;
    const result = await runner.run("refund_flow", "refund 42 please");
    expect(result.status).toBe("awaiting_approval");
    const stored = recorder.get(result.workflowRunId);
    expect(stored.run.status).toBe("awaiting_approval");
    expect(stored.steps.map((s) => s.status)).toEqual(["awaiting_approval", "pending"]);
    const [requested] = ofType(stored.events, "step.approval_requested");
    expect(requested).toMatchObject({ stepIndex: 0, agentKey: "clerk", toolName: "refund", arguments: JSON.stringify({ amount: 42 }), deadlineAt: null });
    expect(stored.events.at(-1)).toMatchObject({ type: "run.awaiting_approval", stepIndex: 0, approvalIds: [requested?.approvalId] });
    expect(refunds).toEqual([]);
    expect(await runner.listApprovals(result.workflowRunId)).toMatchObject([{ approvalId: requested?.approvalId, status: "pending" }]);
  });

  it("approved: a new runner continues the same attempt from the stored state, the tool runs once, on the same seq", async () => {
    const { runner, recorder, newRunner } = setup();
    refunds.length = 0;
    const paused = await runner.run("refund_flow", "refund 42 please");
    const id = paused.workflowRunId;
    const approvalId = ofType(recorder.get(id).events, "step.approval_requested")[0]!.approvalId;
    const decided = await runner.decide(id, { approvalId, approved: true, decidedBy: "local" });
    expect(decided.complete).toBe(true);
    const later = newRunner();
    const resumed = await later.resume(id, { resumedBy: "approval", streamed: false });
    const result = await resumed.done;
    expect(result.status).toBe("succeeded");
    expect(refunds).toEqual(["42"]);
    expect(result.steps[0]?.output).toBe("clerk saw: refunded 42");
    expect(result.finalOutput).toBe("echo: clerk saw: refunded 42");
    const events = recorder.get(id).events;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(ofType(events, "step.approval_resolved")).toMatchObject([{ approvalId, approved: true, expired: false, decidedBy: "local", stepName: "refund" }]);
    expect(ofType(events, "run.resumed")).toMatchObject([{ resumedBy: "approval", previousStatus: "awaiting_approval", fromStepIndex: 0 }]);
    // The resumed attempt is the same attempt, not a new one.
    expect(ofType(events, "step.started").filter((e) => e.stepIndex === 0).map((e) => [e.attempt, e.fromApproval ?? false])).toEqual([
      [1, false],
      [1, true],
    ]);
    expect(await runner.listApprovals(id)).toMatchObject([{ status: "approved", decidedBy: "local" }]);
  });

  it("rejected: the tool never runs and the agent reads the rejection with its reason", async () => {
    const { runner, recorder } = setup();
    refunds.length = 0;
    const paused = await runner.run("refund_flow", "refund 7");
    const approvalId = ofType(recorder.get(paused.workflowRunId).events, "step.approval_requested")[0]!.approvalId;
    await runner.decide(paused.workflowRunId, { approvalId, approved: false, reason: "over the limit", decidedBy: "local" });
    const result = await (await runner.resume(paused.workflowRunId, { resumedBy: "approval" })).done;
    expect(result.status).toBe("succeeded");
    expect(refunds).toEqual([]);
    expect(result.steps[0]?.output).toBe("clerk saw: Tool execution was not approved: over the limit");
    expect(ofType(recorder.get(paused.workflowRunId).events, "step.approval_resolved")[0]).toMatchObject({ approved: false, reason: "over the limit" });
  });

  it("deciding twice is a conflict; an unknown approval is not found; a run that does not wait cannot be decided on or resumed by approval", async () => {
    const { runner, recorder } = setup();
    const paused = await runner.run("refund_flow", "refund 1");
    const id = paused.workflowRunId;
    const approvalId = ofType(recorder.get(id).events, "step.approval_requested")[0]!.approvalId;
    await expect(runner.decide(id, { approvalId: "nope", approved: true, decidedBy: "local" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(runner.resume(id, { resumedBy: "api" })).rejects.toThrow(/awaiting approval/);
    await runner.decide(id, { approvalId, approved: true, decidedBy: "local" });
    await expect(runner.decide(id, { approvalId, approved: false, decidedBy: "local" })).rejects.toThrow(/already approved by local/);
    await (await runner.resume(id, { resumedBy: "approval" })).done;
    await expect(runner.decide(id, { approvalId, approved: true, decidedBy: "local" })).rejects.toBeInstanceOf(ConflictError);
    await expect(runner.resume(id, { resumedBy: "approval" })).rejects.toThrow(/not awaiting approval/);
    await expect(runner.decide("missing", { approvalId, approved: true, decidedBy: "local" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("approvalTimeoutMs: past the stored deadline the approval expires and the step fails with APPROVAL_TIMEOUT", async () => {
    const { runner, recorder, newRunner } = setup(flow(60_000));
    refunds.length = 0;
    const paused = await runner.run("refund_flow", "refund 3");
    const id = paused.workflowRunId;
    const requested = ofType(recorder.get(id).events, "step.approval_requested")[0]!;
    expect(requested.deadlineAt).not.toBeNull();
    const deadline = new Date(requested.deadlineAt!);
    // Before the deadline nothing happens; the deadline is read from storage, so any runner can expire it.
    const later = newRunner();
    expect(await later.expireApprovals(id, new Date(deadline.getTime() - 1))).toBeNull();
    expect(await later.expireApprovals(id, deadline)).toEqual({ complete: true, expired: [requested.approvalId] });
    const result = await (await later.resume(id, { resumedBy: "approval" })).done;
    expect(result.status).toBe("failed");
    expect(result.error).toMatchObject({ code: "APPROVAL_TIMEOUT" });
    expect(refunds).toEqual([]);
    expect(ofType(recorder.get(id).events, "step.approval_resolved")[0]).toMatchObject({ approved: false, expired: true, decidedBy: "timeout" });
    await expect(runner.decide(id, { approvalId: requested.approvalId, approved: true, decidedBy: "local" })).rejects.toThrow(/already expired/);
  });

  it("a run waiting for approval can be cancelled: run cancelled, approval cancelled, nothing runs", async () => {
    const { runner, recorder } = setup();
    refunds.length = 0;
    const paused = await runner.run("refund_flow", "refund 5");
    const id = paused.workflowRunId;
    expect(await runner.cancelPaused(id, "cancelled by request", "local")).toBe(true);
    const stored = recorder.get(id);
    expect(stored.run.status).toBe("cancelled");
    expect(stored.steps.map((s) => s.status)).toEqual(["cancelled", "cancelled"]);
    const [approval] = await runner.listApprovals(id);
    expect(approval).toMatchObject({ status: "cancelled", decidedBy: "local", reason: "cancelled by request" });
    // The log states the decision as the approvals table holds it, then the run's end.
    expect(stored.events.slice(-2)).toMatchObject([
      { type: "step.approval_resolved", approvalId: approval!.approvalId, approved: false, expired: false, reason: "cancelled by request", decidedBy: "local" },
      { type: "run.cancelled", reason: "cancelled by request", by: "local" },
    ]);
    expect(await runner.cancelPaused(id, "again", "local")).toBe(false);
    await expect(runner.resume(id, { resumedBy: "approval" })).rejects.toBeInstanceOf(ConflictError);
    expect(refunds).toEqual([]);
  });

  it("the registry rejects a bad approvalTimeoutMs and one on an agent without a tool that needs approval, naming workflow and step", () => {
    const bad = (step: Record<string, unknown>) => () => WorkflowRegistry.create({ workflows: [{ key: "w", displayName: "W", description: "", steps: [step as never] }], catalog });
    expect(bad({ name: "s", agentKey: "clerk", approvalTimeoutMs: 0 })).toThrow(/Workflow "w" step 0 "s": approvalTimeoutMs: approvalTimeoutMs must be at least 1/);
    expect(bad({ name: "s", agentKey: "clerk", approvalTimeoutMs: 1.5 })).toThrow(InvalidWorkflowSpecError);
    expect(bad({ name: "s", agentKey: "echo", approvalTimeoutMs: 1000 })).toThrow(/Workflow "w" step "s": approvalTimeoutMs is set but agent "echo" has no tool that needs approval/);
  });
});
