import { defineWorkflow, discoverWorkflows } from "@workflows/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, rejection, startTestServer, tempDir, waitFor, type TestServer } from "./harness";

/** A child that waits until it is cancelled (a code step holding on to its signal): nothing ends it but a cancel. */
const waiter = defineWorkflow({
  key: "waiter",
  displayName: "Waiter",
  description: "waits until cancelled",
  steps: [{ name: "wait", kind: "code", run: (_ctx, { signal }) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true })) }],
});
const waitingParent = defineWorkflow({
  key: "waiting_parent",
  displayName: "Waiting parent",
  description: "runs waiter as a sub-workflow",
  steps: [{ name: "sub", kind: "workflow", workflowKey: "waiter" }],
});

let t: TestServer;
const tmp = tempDir();
beforeAll(async () => {
  t = await startTestServer({ dbUrl: tmp.dbUrl, workflows: [...(await discoverWorkflows()), waiter, waitingParent] });
});
afterAll(async () => {
  await t.close();
  await tmp.remove();
});

describe("sub-workflows over HTTP", () => {
  it("runs.get shows a parent's children nested; each child is a run of its own with its parent, events and steps", async () => {
    const result = await t.sse.workflows.run.mutate({ key: "analyse_and_review", input: "Summarise these sales: 12, 15, 9, 30, 14" });
    expect(result.status).toBe("succeeded");
    const parent = await t.sse.runs.get.query({ workflowRunId: result.workflowRunId });
    expect(parent.run.parentRunId).toBeNull();
    expect(parent.steps.map((s) => [s.name, s.agentKey, s.status])).toEqual([
      ["analysis", "(workflow)", "succeeded"],
      ["review", "(workflow)", "succeeded"],
    ]);
    expect(parent.children.map((c) => [c.workflowKey, c.stepIndex, c.status])).toEqual([
      ["analysis_code", 0, "succeeded"],
      ["parallel_review", 1, "succeeded"],
    ]);
    expect(parent.children[0]?.finalOutput).toBe(parent.steps[0]?.output);

    const childId = parent.children[1]!.workflowRunId;
    const child = await t.sse.runs.get.query({ workflowRunId: childId });
    expect(child.run).toMatchObject({ workflowRunId: childId, workflowKey: "parallel_review", parentRunId: result.workflowRunId, parentStepIndex: 1, status: "succeeded" });
    expect(child.steps.map((s) => s.name)).toEqual(["clarity", "accuracy", "tone", "verdict"]);
    expect(child.children).toEqual([]);

    // The child's events are its own log, readable like any run's; the parent's log names the child it started.
    for (const client of [t.sse, t.ws]) {
      const events = await collect(client.runs.events.subscribe({ workflowRunId: childId }));
      expect(events[0]?.data).toMatchObject({ type: "run.started", workflowRunId: childId, parent: { workflowRunId: result.workflowRunId, stepIndex: 1 } });
      expect(events.at(-1)?.data.type).toBe("run.completed");
      expect(events.every((e) => e.data.workflowRunId === childId)).toBe(true);
      expect(events.map((e) => e.data.seq)).toEqual(events.map((_, i) => i + 1));
    }
    const parentEvents = await collect(t.sse.runs.events.subscribe({ workflowRunId: result.workflowRunId }));
    const started = parentEvents.flatMap((e) => (e.data.type === "step.started" ? [[e.data.stepName, e.data.childRunId]] : []));
    expect(started).toEqual([
      ["analysis", parent.children[0]!.workflowRunId],
      ["review", childId],
    ]);
  });

  it("runs.list lists top-level runs by default; a parent's children with parentRunId, every run with includeChildren", async () => {
    const result = await t.sse.workflows.run.mutate({ key: "analyse_and_review", input: "mean of 2, 4, 6" });
    const childIds = (await t.sse.runs.get.query({ workflowRunId: result.workflowRunId })).children.map((c) => c.workflowRunId);
    const top = await t.sse.runs.list.query({ limit: 100 });
    expect(top.items.map((r) => r.workflowRunId)).toContain(result.workflowRunId);
    expect(top.items.every((r) => r.parentRunId === null)).toBe(true);
    const children = await t.sse.runs.list.query({ parentRunId: result.workflowRunId });
    expect(children.items.map((r) => r.workflowRunId).sort()).toEqual([...childIds].sort());
    const all = await t.sse.runs.list.query({ includeChildren: true, limit: 100 });
    expect(all.items.map((r) => r.workflowRunId)).toEqual(expect.arrayContaining([result.workflowRunId, ...childIds]));
  });

  it("cancelling the parent cancels its running child; the child itself is cancelled and resumed only through its parent", async () => {
    const running = t.sse.workflows.run.mutate({ key: "waiting_parent", input: "go" });
    let parentId = "";
    let childId = "";
    await waitFor(async () => {
      const page = await t.sse.runs.list.query({ workflowKey: "waiter", includeChildren: true, status: "running" });
      const found = page.items[0];
      if (found?.parentRunId) [parentId, childId] = [found.parentRunId, found.workflowRunId];
      return found !== undefined;
    });
    const refused = await rejection(t.sse.runs.cancel.mutate({ workflowRunId: childId }));
    expect(refused.data?.code).toBe("CONFLICT");
    expect(refused.message).toBe(`Run "${childId}" is a sub-workflow of run "${parentId}" (step 0); cancel the parent run, which cancels it.`);

    expect(await t.sse.runs.cancel.mutate({ workflowRunId: parentId })).toEqual({ workflowRunId: parentId, status: "cancelled" });
    expect((await running).status).toBe("cancelled");
    const child = await t.sse.runs.get.query({ workflowRunId: childId });
    expect(child.run.status).toBe("cancelled");
    expect(child.steps[0]?.status).toBe("cancelled");
    expect((await t.sse.runs.get.query({ workflowRunId: parentId })).children).toMatchObject([{ workflowRunId: childId, status: "cancelled", stepIndex: 0 }]);

    const notAlone = await rejection(t.sse.runs.resume.mutate({ workflowRunId: childId }));
    expect(notAlone.data?.code).toBe("CONFLICT");
    expect(notAlone.message).toContain("resume the parent run, which continues it");
  });

  it("runs.delete deletes a parent with its children, and refuses a child alone", async () => {
    const result = await t.sse.workflows.run.mutate({ key: "analyse_and_review", input: "mean of 1, 2, 3" });
    const childIds = (await t.sse.runs.get.query({ workflowRunId: result.workflowRunId })).children.map((c) => c.workflowRunId);
    const refused = await rejection(t.sse.runs.delete.mutate({ workflowRunId: childIds[0]! }));
    expect(refused.data?.code).toBe("CONFLICT");
    expect(refused.message).toBe(`Run "${childIds[0]}" is a sub-workflow of run "${result.workflowRunId}": delete the parent run, which deletes it.`);
    const deleted = await t.sse.runs.delete.mutate({ workflowRunId: result.workflowRunId });
    expect(deleted.deleted.runs).toBe(3);
    for (const id of [result.workflowRunId, ...childIds]) expect((await rejection(t.sse.runs.get.query({ workflowRunId: id }))).data?.code).toBe("NOT_FOUND");
  });
});
