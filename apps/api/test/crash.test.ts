import type { WorkflowEvent } from "@workflows/core";
import { afterEach, describe, expect, it } from "vitest";
import { collect, sseClient, tempDir, waitFor } from "./harness";
import { freePort, kill9, killChildren, startProcess } from "./processes";

const tmp = tempDir();
afterEach(killChildren);

/**
 * kill -9 of a real server mid-run, then a restart on the same database and port. The client that was
 * streaming the run is the tRPC client's own reconnect (SSE, with its last event id).
 */
describe.each([
  ["after step 1 succeeded", (e: WorkflowEvent) => e.type === "step.completed" && e.stepIndex === 0, 1],
  ["during step 1", (e: WorkflowEvent) => e.type === "step.delta" && e.stepIndex === 0, 0],
] as const)("kill -9 %s", (_name, killWhen, fromStepIndex) => {
  it("the restarted server resumes the run; the reconnecting client sees every later event once, up to run.completed", { timeout: 180_000 }, async () => {
    const port = await freePort();
    const env = { PORT: String(port), DATABASE_URL: await tmp.ensure(`${tmp.dbUrl}.kill-${fromStepIndex}`), OFFLINE_DELAY_MS: "40" };
    const first = await startProcess(env);
    const client = sseClient(`http://127.0.0.1:${port}/trpc`);
    const events: WorkflowEvent[] = [];
    let killed: Promise<void> | undefined;
    let ended = false;
    const sub = client.workflows.runStream.subscribe(
      { key: "analysis_code", input: "Analyse 3, 5, 8, 13 and write a function that prints their mean." },
      {
        onData: ({ data }) => {
          events.push(data as WorkflowEvent);
          if (!killed && killWhen(data as WorkflowEvent)) killed = kill9(first);
          if (data.type === "run.completed") ended = true;
        },
        onError: () => undefined,
      },
    );
    try {
      await waitFor(() => killed !== undefined, 60_000);
      await killed;
      const seenBeforeCrash = events.length;
      await startProcess(env);
      await waitFor(() => ended, 120_000);
      expect(events.length).toBeGreaterThan(seenBeforeCrash);
      // Nothing twice, nothing missing: seq runs 1, 2, 3... across the crash.
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const at = events.findIndex((e) => e.type === "run.resumed");
      expect(events[at]).toMatchObject({ fromStepIndex, resumedBy: "start-up", previousStatus: "running" });
      const started = (list: WorkflowEvent[]) => list.flatMap((e) => (e.type === "step.started" ? [{ index: e.stepIndex, attempt: e.attempt }] : []));
      const before = started(events.slice(0, at));
      const restarted = started(events.slice(at));
      // The step in flight runs again from its start, its attempts counted on; a succeeded step never runs again.
      expect(restarted[0]).toEqual({ index: fromStepIndex, attempt: before.filter((s) => s.index === fromStepIndex).length + 1 });
      expect(restarted.some((s) => s.index < fromStepIndex)).toBe(false);
      const completed = events.at(-1);
      expect(completed?.type).toBe("run.completed");
      const { run, steps } = await client.runs.get.query({ workflowRunId: events[0]!.workflowRunId });
      expect(run.status).toBe("succeeded");
      expect(steps.map((s) => s.status)).toEqual(["succeeded", "succeeded"]);
    } finally {
      sub.unsubscribe();
    }
  });
});

describe("kill -9 while a sub-workflow runs", () => {
  it("the restarted server resumes the parent (not the child on its own); the parent continues its child from the child's unfinished step", { timeout: 180_000 }, async () => {
    const port = await freePort();
    const env = { PORT: String(port), DATABASE_URL: await tmp.ensure(`${tmp.dbUrl}.kill-sub`), OFFLINE_DELAY_MS: "40" };
    const first = await startProcess(env);
    const client = sseClient(`http://127.0.0.1:${port}/trpc`);
    const parentEvents: WorkflowEvent[] = [];
    let childId: string | undefined;
    const parentSub = client.workflows.runStream.subscribe(
      { key: "analyse_and_review", input: "Analyse 3, 5, 8, 13 and write a function that prints their mean." },
      {
        onData: ({ data }) => {
          parentEvents.push(data as WorkflowEvent);
          if (data.type === "step.started" && data.stepIndex === 0) childId = data.childRunId;
        },
        onError: () => undefined,
      },
    );
    let killed: Promise<void> | undefined;
    try {
      await waitFor(() => childId !== undefined, 60_000);
      // Killed once the child's first step (the analyst) has succeeded: the child is mid-way.
      // The parent names its child once the child run exists: following it at once must work.
      let childError: unknown;
      const childSub = client.runs.events.subscribe(
        { workflowRunId: childId! },
        { onData: ({ data }) => void (!killed && data.type === "step.completed" && data.stepIndex === 0 && (killed = kill9(first))), onError: (error) => (childError = error) },
      );
      await waitFor(() => killed !== undefined || childError !== undefined, 60_000);
      if (childError !== undefined) throw new Error("following the announced child failed", { cause: childError });
      await killed;
      childSub.unsubscribe();
      const parentId = parentEvents[0]!.workflowRunId;
      await startProcess(env);
      await waitFor(async () => (await client.runs.get.query({ workflowRunId: parentId }).catch(() => null))?.run.status === "succeeded", 120_000);

      const parent = await client.runs.get.query({ workflowRunId: parentId });
      expect(parent.children.map((c) => [c.workflowRunId === childId, c.workflowKey, c.status])).toEqual([
        [true, "analysis_code", "succeeded"],
        [false, "parallel_review", "succeeded"],
      ]);
      const childEvents = (await collect(client.runs.events.subscribe({ workflowRunId: childId! }))).map((e) => e.data as WorkflowEvent);
      expect(childEvents.map((e) => e.seq)).toEqual(childEvents.map((_, i) => i + 1));
      // The child was continued by its parent, from its second step: the analyst's succeeded step never ran again.
      expect(childEvents.filter((e) => e.type === "run.resumed")).toMatchObject([{ resumedBy: "parent", fromStepIndex: 1, previousStatus: "running" }]);
      expect(childEvents.filter((e) => e.type === "step.started" && e.stepIndex === 0)).toHaveLength(1);
      const parentLog = (await collect(client.runs.events.subscribe({ workflowRunId: parentId }))).map((e) => e.data as WorkflowEvent);
      expect(parentLog.filter((e) => e.type === "run.resumed")).toMatchObject([{ resumedBy: "start-up", fromStepIndex: 0 }]);
      expect(parentLog.filter((e) => e.type === "step.started" && e.stepIndex === 0).map((e) => e.type === "step.started" && e.childRunId)).toEqual([childId, childId]);
    } finally {
      parentSub.unsubscribe();
    }
  });
});
