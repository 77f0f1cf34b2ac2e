// Two real server processes on one PostgreSQL database: any instance streams, cancels and finishes any run.
import type { WorkflowEvent } from "@workflows/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { collect, isEnd, sseClient, tempDir, waitFor, type Client } from "./harness";
import { freePort, kill9, killChildren, startProcess } from "./processes";

const tmp = tempDir();
afterEach(killChildren);
afterAll(() => tmp.remove());

type Instance = { client: Client; stop(): Promise<void> };

async function instance(dbUrl: string, env: Record<string, string> = {}): Promise<Instance & { proc: Awaited<ReturnType<typeof startProcess>> }> {
  const port = await freePort();
  // The offline model streams slowly enough to act mid-run; heartbeats and sweeps are quick for the kill test.
  const proc = await startProcess({ PORT: String(port), DATABASE_URL: dbUrl, OFFLINE_DELAY_MS: "40", HEARTBEAT_INTERVAL_MS: "200", ...env });
  return { proc, client: sseClient(`http://127.0.0.1:${port}/trpc`), stop: () => kill9(proc) };
}

const input = "Analyse 3, 5, 8, 13 and write a function that prints their mean.";

describe("two instances on one PostgreSQL database", { timeout: 180_000 }, () => {
  let dbUrl: string;
  beforeAll(async () => {
    dbUrl = await tmp.ensure(`${tmp.dbUrl}_pair`);
  });

  it("a run executing on A is followed in full on B (runs.events), live, in the same order", async () => {
    const [a, b] = [await instance(dbUrl), await instance(dbUrl)];
    const onA: WorkflowEvent[] = [];
    let runId = "";
    const sub = a.client.workflows.runStream.subscribe({ key: "analysis_code", input }, { onData: ({ data }) => (onA.push(data as WorkflowEvent), (runId ||= data.workflowRunId)), onError: () => undefined });
    try {
      await waitFor(() => runId !== "", 60_000);
      // B joins while the run is live: a backfill, then the live tail driven by A's notifications.
      const onB = await collect(b.client.runs.events.subscribe({ workflowRunId: runId }), { until: isEnd, timeoutMs: 120_000 });
      await waitFor(() => onA.some((e) => e.type === "run.completed"), 60_000);
      expect(onB.map((e) => e.data)).toEqual(onA);
      expect(onB.at(-1)?.data.type).toBe("run.completed");
    } finally {
      sub.unsubscribe();
    }
  });

  it("cancel on B of a run executing on A aborts it there and answers cancelled", async () => {
    const [a, b] = [await instance(dbUrl), await instance(dbUrl)];
    const onA: WorkflowEvent[] = [];
    let runId = "";
    const sub = a.client.workflows.runStream.subscribe({ key: "analysis_code", input }, { onData: ({ data }) => (onA.push(data as WorkflowEvent), (runId ||= data.workflowRunId)), onError: () => undefined });
    try {
      await waitFor(() => onA.some((e) => e.type === "step.delta"), 60_000);
      expect(await b.client.runs.cancel.mutate({ workflowRunId: runId })).toEqual({ workflowRunId: runId, status: "cancelled" });
      await waitFor(() => onA.some((e) => e.type === "run.cancelled"), 30_000);
      const { run, steps } = await b.client.runs.get.query({ workflowRunId: runId });
      expect(run.status).toBe("cancelled");
      expect(steps.some((s) => s.status === "running")).toBe(false);
    } finally {
      sub.unsubscribe();
    }
  });

  it("kill -9 of A mid-run: B continues the run from its first unfinished step, the finished one is not run again", async () => {
    const [a, b] = [await instance(dbUrl), await instance(dbUrl)];
    let runId = "";
    const sub = a.client.workflows.runStream.subscribe({ key: "analysis_code", input }, { onData: ({ data }) => (runId ||= data.workflowRunId), onError: () => undefined });
    await waitFor(() => runId !== "", 60_000);
    const events = b.client.runs.events.subscribe({ workflowRunId: runId });
    const seen = collect(events, { until: (e) => e.data.type === "run.completed", timeoutMs: 150_000 });
    // Kill A once step 1 (index 0) succeeded and step 2 started.
    await waitFor(async () => (await b.client.runs.get.query({ workflowRunId: runId })).steps.some((s) => s.index === 1 && s.status === "running"), 60_000);
    await a.stop();
    sub.unsubscribe();
    const all = (await seen).map((e) => e.data);
    const resumed = all.findIndex((e) => e.type === "run.resumed");
    expect(all[resumed]).toMatchObject({ type: "run.resumed", fromStepIndex: 1, previousStatus: "running" });
    const startedAfter = all.slice(resumed).flatMap((e) => (e.type === "step.started" ? [e.stepIndex] : []));
    expect(startedAfter).toEqual([1]);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    const { run } = await b.client.runs.get.query({ workflowRunId: runId });
    expect(run.status).toBe("succeeded");
  });

  it("one idempotency key sent to both at once gives one run", async () => {
    const [a, b] = [await instance(dbUrl, { OFFLINE_DELAY_MS: "0" }), await instance(dbUrl, { OFFLINE_DELAY_MS: "0" })];
    const request = { key: "analysis_code", input: "mean of 1, 2, 3", idempotencyKey: `both-${Date.now()}` };
    const [ra, rb] = await Promise.all([a.client.workflows.run.mutate(request), b.client.workflows.run.mutate(request)]);
    expect(ra.workflowRunId).toBe(rb.workflowRunId);
    const runs = await a.client.runs.list.query({ workflowKey: "analysis_code", limit: 100 });
    expect(runs.items.filter((r) => r.idempotencyKey === request.idempotencyKey)).toHaveLength(1);
  });
});
