import { createDefaultCatalog, createModelProvider, disableDefaultTraceExport } from "@workflows/agents";
import { startFakeOpenAI } from "@workflows/agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoverWorkflows, WorkflowRegistry, WorkflowRunner } from "../src";
import { InMemoryRunRecorder } from "../src/testing";
import { collect } from "./fixtures";

const catalog = createDefaultCatalog();
let registry: WorkflowRegistry;

beforeAll(async () => {
  registry = WorkflowRegistry.create({ workflows: await discoverWorkflows(), catalog });
});

function offlineRunner() {
  const recorder = new InMemoryRunRecorder();
  return { recorder, runner: new WorkflowRunner({ registry, catalog, modelProvider: createModelProvider({ provider: "offline" }), recorder }) };
}

describe("sample workflows on the offline model, through the real SDK runner", () => {
  it("analysis_code: the analyst calls its statistics tool and the code assistant receives the mapped input", async () => {
    const { runner, recorder } = offlineRunner();
    const events = await collect(runner.stream("analysis_code", "Summarise these sales: 12, 15, 9, 30, 14"));
    const run = recorder.get(events[0]!.workflowRunId);
    expect(run.run.status).toBe("succeeded");
    const tool = events.find((e) => e.type === "step.item" && e.item.kind === "tool_called");
    expect(tool).toMatchObject({ stepIndex: 0, item: { kind: "tool_called", toolName: "compute_statistics" } });
    const toolOutput = events.find((e) => e.type === "step.item" && e.item.kind === "tool_output");
    expect(toolOutput).toBeDefined();
    const analysis = run.steps[0]!.output!;
    expect(analysis).toContain("16"); // mean of 12, 15, 9, 30, 14
    expect(run.steps[1]!.input).toContain("Original request:\nSummarise these sales: 12, 15, 9, 30, 14");
    expect(run.steps[1]!.input).toContain(analysis);
    expect(events.some((e) => e.type === "step.delta" && e.stepIndex === 1)).toBe(true);
    expect(run.run.usage.totalTokens).toBeGreaterThan(0);
    expect(run.spans.some((s) => s.kind === "function" && s.name === "compute_statistics" && s.stepIndex === 0)).toBe(true);
  });

  it("refund_approval: the offline billing specialist asks to issue the refund, waits for approval, then reports the refund", async () => {
    const { runner, recorder } = offlineRunner();
    const paused = await runner.run("refund_approval", "Order 1042 arrived broken; please refund 49.90");
    expect(paused.status).toBe("awaiting_approval");
    const requested = recorder.get(paused.workflowRunId).events.find((e) => e.type === "step.approval_requested");
    expect(requested).toMatchObject({ stepIndex: 0, agentKey: "billing_specialist", toolName: "issue_refund" });
    expect(JSON.parse((requested as { arguments: string }).arguments)).toMatchObject({ amount: 1042 });
    const approvalId = (requested as { approvalId: string }).approvalId;
    await runner.decide(paused.workflowRunId, { approvalId, approved: true, decidedBy: "local" });
    const done = await (await runner.resume(paused.workflowRunId, { resumedBy: "approval" })).done;
    expect(done.status).toBe("succeeded");
    expect(done.steps[0]!.output).toContain("issue_refund returned refunded = true");
    expect(done.steps.map((s) => s.status)).toEqual(["succeeded", "succeeded"]);
    // A rejection reaches the specialist as the tool's result: nothing is refunded.
    const second = await runner.run("refund_approval", "Please refund 5 for a late delivery");
    const secondId = recorder.get(second.workflowRunId).events.find((e) => e.type === "step.approval_requested") as { approvalId: string };
    await runner.decide(second.workflowRunId, { approvalId: secondId.approvalId, approved: false, reason: "not eligible", decidedBy: "local" });
    const rejected = await (await runner.resume(second.workflowRunId, { resumedBy: "approval" })).done;
    expect(rejected.steps[0]!.output).toContain("Tool execution was not approved: not eligible");
  });

  it("triage_reply: triage hands off to the right specialist inside the chain, recorded as a step item", async () => {
    for (const [input, specialist] of [
      ["I was charged twice on my invoice, please refund", "billing_specialist"],
      ["The app shows an error and crashes on start", "tech_specialist"],
    ] as const) {
      const { runner, recorder } = offlineRunner();
      const result = await runner.run("triage_reply", input);
      expect(result.steps.map((s) => s.status)).toEqual(["succeeded", "succeeded"]);
      const handoff = recorder.get(result.workflowRunId).events.find((e) => e.type === "step.item" && e.item.kind === "handoff_occurred");
      expect(handoff).toMatchObject({ stepIndex: 0, item: { kind: "handoff_occurred", fromAgentKey: "triage", toAgentKey: specialist } });
    }
  });

  it("gated_writing: the writer runs when the checker approves; a rejection fails the run at the write step as a failed guard", async () => {
    const { runner } = offlineRunner();
    const approved = await runner.run("gated_writing", "A short post about tide pools");
    expect(approved.steps.map((s) => s.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(approved.steps[1]!.structuredOutput).toMatchObject({ approved: true });
    const rejected = await runner.run("gated_writing", "A post about tide pools. REJECT");
    expect(rejected.status).toBe("failed");
    expect(rejected.steps.map((s) => s.status)).toEqual(["succeeded", "succeeded", "failed"]);
    expect(rejected.steps[1]!.structuredOutput).toMatchObject({ approved: false });
    expect(rejected.error?.code).toBe("GUARD_REJECTED");
    expect(rejected.error?.message).toMatch(/^Step "write" did not pass its guard: the outline was rejected: \[offline\] rejected/);
  });

  it("parallel_review: three reviewers on { text }, then the editor's verdict over all three reviews", async () => {
    const { runner } = offlineRunner();
    const result = await runner.run("parallel_review", JSON.stringify({ text: "Tide pools are small worlds." }));
    expect(result.status).toBe("succeeded");
    expect(result.steps.map((s) => [s.name, s.agentKey, s.stage, s.status])).toEqual([
      ["clarity", "clarity_reviewer", "review", "succeeded"],
      ["accuracy", "accuracy_reviewer", "review", "succeeded"],
      ["tone", "tone_reviewer", "review", "succeeded"],
      ["verdict", "review_editor", "review", "succeeded"],
    ]);
    for (const name of ["## clarity", "## accuracy", "## tone"]) expect(result.steps[3]!.input).toContain(name);
    expect(result.finalOutput).toContain("[offline]");
    await expect(runner.run("parallel_review", "just text")).rejects.toThrow(/inputSchema/);
  });

  it("revise_until_approved: approved in the first pass (passes 2 and 3 skipped); never approved: three passes, then LOOP_EXHAUSTED", async () => {
    const { runner } = offlineRunner();
    const approved = await runner.run("revise_until_approved", "A note about tide pools");
    expect(approved.status).toBe("succeeded");
    expect(approved.steps.map((s) => [s.name, s.iteration, s.status])).toEqual([
      ["write", 1, "succeeded"],
      ["check", 1, "succeeded"],
      ["write", 2, "skipped"],
      ["check", 2, "skipped"],
      ["write", 3, "skipped"],
      ["check", 3, "skipped"],
    ]);
    const stubborn = await runner.run("revise_until_approved", "A note about tide pools. REJECT");
    expect(stubborn.error?.code).toBe("LOOP_EXHAUSTED");
    expect(stubborn.steps.every((s) => s.status === "succeeded")).toBe(true);
    expect(stubborn.steps[2]!.input).toMatch(/^Revise your draft/);
  });
});

describe("the OpenAI provider against a local server imitating the OpenAI API", () => {
  let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
  beforeAll(async () => {
    disableDefaultTraceExport();
    fake = await startFakeOpenAI({ text: "Analysis from the fake server." });
  });
  afterAll(() => fake.close());

  for (const api of ["responses", "chat_completions"] as const) {
    for (const streamed of [false, true]) {
      it(`completes analysis_code over ${api}, ${streamed ? "streamed" : "not streamed"}`, async () => {
        const recorder = new InMemoryRunRecorder();
        const modelProvider = createModelProvider({ provider: "openai", apiKey: "test-key", baseURL: fake.baseURL, api, model: "gpt-test" });
        const runner = new WorkflowRunner({ registry, catalog, modelProvider, recorder });
        const before = fake.log.length;
        const result = await runner.run("analysis_code", "numbers: 1, 2, 3", { streamed });
        expect(result.status).toBe("succeeded");
        expect(result.finalOutput).toBe("Analysis from the fake server.");
        expect(result.steps[0]!.responseId).not.toBeNull();
        expect(result.usage.totalTokens).toBeGreaterThan(0);
        const requests = fake.log.slice(before);
        expect(requests.every((r) => r.path.endsWith(api === "responses" ? "/responses" : "/chat/completions"))).toBe(true);
        expect(requests.every((r) => r.stream === streamed)).toBe(true);
        const events = recorder.get(result.workflowRunId).events;
        expect(events.some((e) => e.type === "step.item" && e.item.kind === "tool_called")).toBe(true);
        if (streamed) expect(events.some((e) => e.type === "step.delta")).toBe(true);
      });
    }
  }
});
