import { tool } from "@openai/agents-core";
import { AgentCatalog, requireApproval } from "@workflows/agents";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { EventOf, NewRun, RunRecorder, WorkflowEvent, WorkflowSpec } from "../src";
import { childRunIdOf, ConflictError, InProcessAdmission, InvalidWorkflowSpecError, RunCancelledError, WorkflowRegistry } from "../src";
import { InMemoryRunRecorder, lastUserText, type Responder } from "../src/testing";
import { defaultResponder, httpError, setup, testCatalog } from "./fixtures";

const wf = (key: string, steps: WorkflowSpec["steps"], extra: Partial<WorkflowSpec> = {}): WorkflowSpec => ({ key, displayName: key, description: "test", steps, ...extra });
const ofType = <T extends WorkflowEvent["type"]>(events: WorkflowEvent[], type: T) => events.filter((e): e is EventOf<T> => e.type === type);
const never = <T>() => new Promise<T>(() => undefined);

/** The child: two agent steps, so a crash can fall between them. */
const child = wf("child", [
  { name: "first", agentKey: "echo" },
  { name: "second", agentKey: "backup" },
]);
/** The parent: a step, the child as a sub-workflow, then a step that reads the child's output. */
const parent = wf("parent", [
  { name: "prepare", kind: "code", run: (ctx) => `prepared ${ctx.input}` },
  { name: "sub", kind: "workflow", workflowKey: "child", input: (ctx) => `for child: ${ctx.previousOutput}` },
  { name: "after", agentKey: "echo", inputMapper: (ctx) => `child said: ${ctx.byName.sub?.output ?? "?"}` },
]);

/**
 * A recorder that can die like a process under kill -9: from the event `dieAt` matches on, nothing more is
 * stored and no write ever answers (the old execution hangs where it was). The inner recorder is what a new
 * process finds in the database.
 */
class DyingRecorder implements RunRecorder {
  dead = false;
  constructor(
    readonly inner: InMemoryRunRecorder,
    readonly dieAt: (event: WorkflowEvent) => boolean,
  ) {}
  createRun(run: NewRun) {
    return this.dead ? never<never>() : this.inner.createRun(run);
  }
  loadRun(id: string) {
    return this.dead ? never<never>() : this.inner.loadRun(id);
  }
  append(event: WorkflowEvent) {
    if (!this.dead && this.dieAt(event)) this.dead = true;
    return this.dead ? never<void>() : this.inner.append(event);
  }
  recordSpan(span: Parameters<RunRecorder["recordSpan"]>[0]) {
    return this.dead ? never<void>() : this.inner.recordSpan(span);
  }
  savePause(approvals: Parameters<RunRecorder["savePause"]>[0]) {
    return this.inner.savePause(approvals);
  }
  listApprovals(id: string) {
    return this.inner.listApprovals(id);
  }
  loadPausedStep(id: string, index: number) {
    return this.inner.loadPausedStep(id, index);
  }
  decideApproval(...args: Parameters<RunRecorder["decideApproval"]>) {
    return this.inner.decideApproval(...args);
  }
}

/** Starts `parent` on a recorder that dies at `dieAt`; resolves once it died. */
async function crashAt(dieAt: (event: WorkflowEvent) => boolean) {
  const inner = new InMemoryRunRecorder();
  const dying = new DyingRecorder(inner, dieAt);
  const first = setup([child, parent], defaultResponder, {}, { recorder: dying as unknown as InMemoryRunRecorder });
  const started = await first.runner.start("parent", "job");
  if (!started.created) throw new Error("not created");
  for (let i = 0; i < 1_000 && !dying.dead; i++) await new Promise((r) => setImmediate(r));
  expect(dying.dead).toBe(true);
  return { inner, parentId: started.workflowRunId, childId: childRunIdOf(started.workflowRunId, 1), firstModel: first.model };
}

describe("sub-workflows", () => {
  it("run the child as a run of its own (parentRunId, its own events and steps); its output feeds the parent's next step", async () => {
    const { runner, recorder } = setup([child, parent]);
    const result = await runner.run("parent", "job");
    expect(result.status).toBe("succeeded");
    const childId = childRunIdOf(result.workflowRunId, 1);
    expect(recorder.childrenOf(result.workflowRunId).map((r) => [r.id, r.workflowKey, r.parentRunId, r.parentStepIndex, r.status])).toEqual([[childId, "child", result.workflowRunId, 1, "succeeded"]]);

    const stored = recorder.get(childId);
    expect(stored.run.input).toBe("for child: prepared job");
    expect(stored.run.finalOutput).toBe("backup: echo: for child: prepared job");
    expect(stored.steps.map((s) => [s.name, s.status])).toEqual([
      ["first", "succeeded"],
      ["second", "succeeded"],
    ]);
    expect(stored.events[0]).toMatchObject({ type: "run.started", workflowRunId: childId, workflowKey: "child", parent: { workflowRunId: result.workflowRunId, stepIndex: 1 } });
    expect(stored.events.every((e) => e.workflowRunId === childId)).toBe(true);

    const parentRun = recorder.get(result.workflowRunId);
    expect(ofType(parentRun.events, "step.started").find((e) => e.stepIndex === 1)).toMatchObject({ agentKey: "(workflow)", childRunId: childId, input: "for child: prepared job" });
    expect(parentRun.events.some((e) => e.workflowRunId === childId)).toBe(false);
    expect(parentRun.steps[1]).toMatchObject({ name: "sub", agentKey: "(workflow)", status: "succeeded", output: "backup: echo: for child: prepared job" });
    expect(result.finalOutput).toBe("echo: child said: backup: echo: for child: prepared job");
    // The child's tokens count in the parent's step and run.
    expect(parentRun.steps[1]!.usage).toEqual(stored.run.usage);
    expect(parentRun.run.usage.totalTokens).toBe(stored.run.usage.totalTokens + parentRun.steps[2]!.usage.totalTokens);
    expect(parentRun.run.parentRunId).toBeNull();
  });

  it("name their child in step.started only once the child run exists, so a client can follow it at once", async () => {
    const found: boolean[] = [];
    class Checking extends InMemoryRunRecorder {
      override async append(event: WorkflowEvent): Promise<void> {
        if (event.type === "step.started" && event.childRunId !== undefined) found.push((await this.loadRun(event.childRunId)) !== null);
        return super.append(event);
      }
    }
    const { runner } = setup([child, parent], defaultResponder, {}, { recorder: new Checking() });
    expect((await runner.run("parent", "job")).status).toBe("succeeded");
    expect(found).toEqual([true]);
  });

  it("run in the parent's admission slot: with one slot the child does not wait for its parent", async () => {
    const { runner } = setup([child, parent], defaultResponder, {}, { admission: new InProcessAdmission(1) });
    expect((await runner.run("parent", "job")).status).toBe("succeeded");
  });

  it("validate a typed child input against the child's inputSchema: a JSON value passes, a mismatch fails the step before any child run", async () => {
    const typed = wf("typed", [{ name: "count", kind: "code", run: (ctx) => `${(ctx.data as { n: number }).n * 2}` }], { inputSchema: z.object({ n: z.number() }) });
    const good = wf("good", [{ name: "sub", kind: "workflow", workflowKey: "typed", input: () => ({ n: 21 }) }]);
    const bad = wf("bad", [{ name: "sub", kind: "workflow", workflowKey: "typed", input: () => ({ n: "many" }) }]);
    const { runner, recorder } = setup([typed, good, bad]);
    expect((await runner.run("good", "x")).finalOutput).toBe("42");
    const failed = await runner.run("bad", "x");
    expect(failed.status).toBe("failed");
    expect(failed.error?.code).toBe("INVALID_INPUT");
    expect(failed.error?.message).toMatch(/^Sub-workflow "typed": Input of workflow "typed" does not match its inputSchema: input\.n:/);
    expect(recorder.childrenOf(failed.workflowRunId)).toEqual([]);
  });

  it("fail the parent's step when the child fails; onFailure: skip goes on", async () => {
    const responder: Responder = (request, i) => (/^Backup/.test(request.systemInstructions ?? "") ? { error: httpError(400) } : defaultResponder(request, i));
    const skipping = wf("skipping", [
      { name: "sub", kind: "workflow", workflowKey: "child", onFailure: "skip" },
      { name: "after", kind: "code", run: (ctx) => `after ${ctx.byName.sub?.status}` },
    ]);
    const { runner, recorder } = setup([child, parent, skipping], responder);
    const failed = await runner.run("parent", "job");
    const childId = childRunIdOf(failed.workflowRunId, 1);
    expect(failed.status).toBe("failed");
    expect(failed.steps.map((s) => s.status)).toEqual(["succeeded", "failed", "pending"]);
    expect(failed.error).toMatchObject({ code: "SUBWORKFLOW_FAILED" });
    expect(failed.error?.message).toContain(`Sub-workflow "child" (run "${childId}") ended failed: MODEL_ERROR`);
    expect(recorder.get(childId).run).toMatchObject({ status: "failed", parentRunId: failed.workflowRunId });
    const skipped = await runner.run("skipping", "job");
    expect(skipped).toMatchObject({ status: "succeeded", finalOutput: "after failed" });
  });

  it("are cancelled with their parent: the parent's cancel aborts the child's model call, both end cancelled, by the same caller", async () => {
    const hang: Responder = (request, i) => (/^Backup/.test(request.systemInstructions ?? "") ? never() : defaultResponder(request, i));
    const controller = new AbortController();
    const { runner, recorder } = setup([child, parent], hang, {}, {
      // The runner's observer sees the child's events too: cancel once the child's second step asks the model.
      observe: (e) => {
        if (e.type === "step.started" && e.workflowKey === "child" && e.stepIndex === 1) controller.abort(new RunCancelledError("alice"));
      },
    });
    const result = await runner.run("parent", "job", { signal: controller.signal });
    expect(result.status).toBe("cancelled");
    const childRun = recorder.get(childRunIdOf(result.workflowRunId, 1));
    expect(childRun.run.status).toBe("cancelled");
    expect(childRun.steps.map((s) => s.status)).toEqual(["succeeded", "cancelled"]);
    expect(ofType(childRun.events, "run.cancelled")).toMatchObject([{ by: "alice" }]);
    expect(ofType(recorder.get(result.workflowRunId).events, "run.cancelled")).toMatchObject([{ by: "alice", stepIndex: 1 }]);
  });

  it("get a run of their own per loop pass, each with its own derived id", async () => {
    const looping = wf("looping", [
      { kind: "loop", name: "again", maxIterations: 2, until: () => false, onExhausted: "continue", steps: [{ name: "sub", kind: "workflow", workflowKey: "child", input: (ctx) => `pass ${ctx.iteration}` }] },
    ]);
    const { runner, recorder } = setup([child, looping]);
    const result = await runner.run("looping", "x");
    expect(result.status).toBe("succeeded");
    const children = recorder.childrenOf(result.workflowRunId);
    expect(children.map((c) => [c.id, c.parentStepIndex, c.input])).toEqual([
      [childRunIdOf(result.workflowRunId, 0), 0, "pass 1"],
      [childRunIdOf(result.workflowRunId, 1), 1, "pass 2"],
    ]);
  });

  it("cannot be resumed on their own: the parent drives them", async () => {
    const responder: Responder = (request, i) => (/^Backup/.test(request.systemInstructions ?? "") ? { error: httpError(400) } : defaultResponder(request, i));
    const { runner } = setup([child, parent], responder);
    const failed = await runner.run("parent", "job");
    const childId = childRunIdOf(failed.workflowRunId, 1);
    await expect(runner.resume(childId, { resumedBy: "api" })).rejects.toThrow(ConflictError);
    await expect(runner.resume(childId, { resumedBy: "api" })).rejects.toThrow(`Run "${childId}" is a sub-workflow of run "${failed.workflowRunId}" (step 1); resume the parent run, which continues it.`);
  });

  it("a resumed parent continues its failed child from the child's failed step", async () => {
    let fail = true;
    const responder: Responder = (request, i) => (fail && /^Backup/.test(request.systemInstructions ?? "") ? { error: httpError(400) } : defaultResponder(request, i));
    const { runner, recorder, model } = setup([child, parent], responder);
    const failed = await runner.run("parent", "job");
    const childId = childRunIdOf(failed.workflowRunId, 1);
    fail = false;
    const before = model.requests.length;
    const result = await (await runner.resume(failed.workflowRunId, { resumedBy: "api" })).done;
    expect(result.status).toBe("succeeded");
    // Only the child's second step and the parent's last step asked the model.
    expect(model.requests.slice(before).map(lastUserText)).toEqual(["echo: for child: prepared job", "child said: backup: echo: for child: prepared job"]);
    const childEvents = recorder.get(childId).events;
    expect(ofType(childEvents, "run.resumed")).toMatchObject([{ resumedBy: "parent", fromStepIndex: 1, previousStatus: "failed" }]);
    expect(recorder.childrenOf(failed.workflowRunId)).toHaveLength(1);
  });
  it("a parent resumed on a new version whose step now names another workflow fails that step instead of continuing the old child", async () => {
    const responder: Responder = (request, i) => (/^Backup/.test(request.systemInstructions ?? "") ? { error: httpError(400) } : defaultResponder(request, i));
    const first = setup([child, parent], responder);
    const failed = await first.runner.run("parent", "job");
    const other = wf("other", [{ name: "only", agentKey: "echo" }]);
    const changed = wf("parent", parent.steps.map((s) => (s.name === "sub" ? { name: "sub", kind: "workflow" as const, workflowKey: "other" } : s)));
    const again = setup([child, other, changed], defaultResponder, {}, { recorder: first.recorder });
    const result = await (await again.runner.resume(failed.workflowRunId, { resumedBy: "api", allowNewVersion: true })).done;
    expect(result.status).toBe("failed");
    expect(result.error?.message).toBe(`Run "${childRunIdOf(failed.workflowRunId, 1)}" of this step ran workflow "child"; the step now runs "other". Start a new run.`);
    expect(again.model.requests).toHaveLength(0);
  });
});

describe("sub-workflows after a kill -9", () => {
  it("a parent resumed after its child had finished takes the child's recorded output: the child does not run again", async () => {
    const crashed = await crashAt((e) => e.type === "step.completed" && e.workflowKey === "parent" && e.stepIndex === 1);
    expect((await crashed.inner.loadRun(crashed.childId))?.run.status).toBe("succeeded");
    expect((await crashed.inner.loadRun(crashed.parentId))?.steps[1]?.status).toBe("running");
    const childEventsBefore = crashed.inner.get(crashed.childId).events.length;

    const again = setup([child, parent], defaultResponder, {}, { recorder: crashed.inner });
    const resumed = await again.runner.resume(crashed.parentId, { resumedBy: "start-up", orphaned: true });
    expect(resumed.fromStepIndex).toBe(1);
    const result = await resumed.done;
    expect(result.status).toBe("succeeded");
    expect(again.model.requests.map(lastUserText)).toEqual(["child said: backup: echo: for child: prepared job"]);
    expect(crashed.inner.get(crashed.childId).events).toHaveLength(childEventsBefore);
    expect(crashed.inner.childrenOf(crashed.parentId)).toHaveLength(1);
    const stored = crashed.inner.get(crashed.parentId);
    expect(stored.steps.map((s) => s.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(stored.events.map((e) => e.seq)).toEqual(stored.events.map((_, i) => i + 1));
  });

  it("a parent resumed while its child was mid-way continues that child from its first unfinished step", async () => {
    const crashed = await crashAt((e) => e.type === "step.completed" && e.workflowKey === "child" && e.stepIndex === 1);
    expect((await crashed.inner.loadRun(crashed.childId))?.run.status).toBe("running");
    expect((await crashed.inner.loadRun(crashed.parentId))?.run.status).toBe("running");

    const again = setup([child, parent], defaultResponder, {}, { recorder: crashed.inner });
    const result = await (await again.runner.resume(crashed.parentId, { resumedBy: "start-up", orphaned: true })).done;
    expect(result.status).toBe("succeeded");
    // The child's first step is not asked again: its second step, then the parent's last step.
    expect(again.model.requests.map(lastUserText)).toEqual(["echo: for child: prepared job", "child said: backup: echo: for child: prepared job"]);
    const childRun = crashed.inner.get(crashed.childId);
    expect(ofType(childRun.events, "run.resumed")).toMatchObject([{ resumedBy: "parent", fromStepIndex: 1, previousStatus: "running" }]);
    expect(childRun.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ["first", "succeeded", 1],
      ["second", "succeeded", 2],
    ]);
    expect(childRun.events.map((e) => e.seq)).toEqual(childRun.events.map((_, i) => i + 1));
    expect(crashed.inner.childrenOf(crashed.parentId)).toHaveLength(1);
  });

  it("a parent resumed after its child was created but before it started starts that same child", async () => {
    const crashed = await crashAt((e) => e.type === "run.started" && e.workflowKey === "child");
    expect((await crashed.inner.loadRun(crashed.childId))?.run).toMatchObject({ status: "pending", lastSeq: 0 });
    const again = setup([child, parent], defaultResponder, {}, { recorder: crashed.inner });
    const result = await (await again.runner.resume(crashed.parentId, { resumedBy: "start-up", orphaned: true })).done;
    expect(result.status).toBe("succeeded");
    expect(crashed.inner.childrenOf(crashed.parentId).map((r) => r.status)).toEqual(["succeeded"]);
    expect(crashed.inner.get(crashed.childId).events[0]).toMatchObject({ type: "run.started", parent: { workflowRunId: crashed.parentId, stepIndex: 1 } });
  });
});

describe("registry checks of sub-workflows", () => {
  const create = (...workflows: WorkflowSpec[]) => () => WorkflowRegistry.create({ workflows, catalog: testCatalog });
  const sub = (name: string, workflowKey: string) => ({ name, kind: "workflow" as const, workflowKey });

  it("reject an unknown workflow, naming the workflow and the step", () => {
    expect(create(wf("a", [sub("run_ghost", "ghost")]))).toThrow('Workflow "a" step "run_ghost": unknown workflow "ghost". Known workflows: a.');
    try {
      create(wf("a", [sub("run_ghost", "ghost")]))();
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidWorkflowSpecError);
      expect(error).toMatchObject({ workflowKey: "a", stepName: "run_ghost" });
    }
  });

  it("reject cycles: a workflow that runs itself, and A → B → A (also through a loop)", () => {
    expect(create(wf("a", [sub("again", "a")]))).toThrow('Workflow "a" step "again": sub-workflows form a cycle: a → a.');
    const a = wf("a", [{ name: "one", agentKey: "echo" }, sub("to_b", "b")]);
    const b = wf("b", [{ kind: "loop", name: "l", maxIterations: 2, until: () => true, steps: [sub("to_a", "a")] }]);
    expect(create(a, b)).toThrow('Workflow "a" step "to_b": sub-workflows form a cycle: a → b → a.');
    expect(create(b, a)).toThrow('Workflow "b" step "to_a": sub-workflows form a cycle: b → a → b.');
    // A diamond is not a cycle.
    const leaf = wf("leaf", [{ name: "one", agentKey: "echo" }]);
    expect(create(leaf, wf("x", [sub("l1", "leaf")]), wf("top", [sub("x1", "x"), sub("l2", "leaf")]))).not.toThrow();
  });

  it("reject retry and timeoutMs on a sub-workflow step, and a child that can pause for an approval", () => {
    expect(create(child, wf("a", [{ ...sub("s", "child"), retry: { maxAttempts: 2 } } as never]))).toThrow(/Workflow "a" step 0 "s": retry: a sub-workflow step has no retry policy/);
    const refund = requireApproval(tool({ name: "refund", description: "Refunds.", parameters: z.object({}), execute: () => "ok" }));
    const catalog = new AgentCatalog([{ key: "clerk", displayName: "Clerk", description: "Refunds.", instructions: "Refund.", tools: [refund] }]);
    const pausing = wf("pausing", [{ name: "refund", agentKey: "clerk" }]);
    expect(() => WorkflowRegistry.create({ workflows: [pausing, wf("a", [sub("s", "pausing")])], catalog })).toThrow(
      'Workflow "a" step "s": workflow "pausing" can pause for a tool approval (agent "clerk", tool "refund"), and a sub-workflow cannot wait for approvals. Run it as a workflow of its own.',
    );
  });

  it("give a parent a new version when its child workflow changes, and describe the step", () => {
    const before = WorkflowRegistry.create({ workflows: [child, parent], catalog: testCatalog });
    const changedChild = wf("child", [{ name: "first", agentKey: "echo", maxTurns: 3 }, { name: "second", agentKey: "backup" }]);
    const after = WorkflowRegistry.create({ workflows: [changedChild, parent], catalog: testCatalog });
    expect(after.require("parent").versionHash).not.toBe(before.require("parent").versionHash);
    expect(before.require("parent").descriptor.steps[1]).toMatchObject({ name: "sub", kind: "workflow", agentKey: "(workflow)", workflowKey: "child", mapped: true, retry: null, timeoutMs: null });
    expect(before.require("parent").descriptor.steps[0]).toMatchObject({ kind: "code", workflowKey: null });
  });
});
