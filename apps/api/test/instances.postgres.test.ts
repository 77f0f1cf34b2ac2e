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

  it("kill -9 of the instance executing a run: the other continues it from its first unfinished step, the finished one is not run again", async () => {
    // A slower model: step 2 streams for seconds, so the kill surely lands while it runs.
    const pair = [await instance(dbUrl, { OFFLINE_DELAY_MS: "150" }), await instance(dbUrl, { OFFLINE_DELAY_MS: "150" })];
    let runId = "";
    const sub = pair[0]!.client.workflows.runStream.subscribe({ key: "analysis_code", input }, { onData: ({ data }) => (runId ||= data.workflowRunId), onError: () => undefined });
    await waitFor(() => runId !== "", 60_000);
    // Either instance may have taken the run from the queue: the executor logs it.
    const executes = (i: (typeof pair)[number]) => i.proc.output().split("\n").some((line) => line.includes('"msg":"run resumed"') && line.includes(runId));
    await waitFor(() => pair.some(executes), 60_000);
    const victim = pair.find(executes)!;
    const survivor = pair.find((i) => i !== victim)!;
    const seen = collect(survivor.client.runs.events.subscribe({ workflowRunId: runId }), { until: (e) => e.data.type === "run.completed", timeoutMs: 150_000 });
    // Kill the executor once step 1 (index 0) succeeded, or at the latest while step 2 runs.
    await waitFor(async () => (await survivor.client.runs.get.query({ workflowRunId: runId })).steps.some((s) => s.index === 0 && s.status === "succeeded"), 60_000);
    await victim.stop();
    sub.unsubscribe();
    const all = (await seen).map((e) => e.data);
    const resumed = all.findIndex((e) => e.type === "run.resumed");
    expect(all[resumed]).toMatchObject({ type: "run.resumed", fromStepIndex: 1, previousStatus: "running" });
    const startedAfter = all.slice(resumed).flatMap((e) => (e.type === "step.started" ? [e.stepIndex] : []));
    expect(startedAfter).toEqual([1]);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    const { run } = await survivor.client.runs.get.query({ workflowRunId: runId });
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

  it("runs queued on A are shared by both when each runs one at a time (MAX_CONCURRENT_RUNS=1); a queued run cancels from B", async () => {
    const [a, b] = [await instance(dbUrl, { MAX_CONCURRENT_RUNS: "1" }), await instance(dbUrl, { MAX_CONCURRENT_RUNS: "1" })];
    const inputs = Array.from({ length: 5 }, (_, i) => `mean of ${i}, ${i + 1}, ${i + 2}`);
    const runs = inputs.map((text) => a.client.workflows.run.mutate({ key: "analysis_code", input: text }));
    // A alone could execute one run at a time: two running at once means B took one from the queue.
    await waitFor(async () => (await b.client.runs.list.query({ workflowKey: "analysis_code", status: "running", limit: 100 })).items.filter((r) => inputs.includes(r.input)).length === 2, 120_000);
    const pending = (await b.client.runs.list.query({ workflowKey: "analysis_code", status: "pending", limit: 100 })).items.filter((r) => inputs.includes(r.input));
    expect(pending.length).toBeGreaterThan(0);
    const victim = pending[0]!;
    expect(await b.client.runs.cancel.mutate({ workflowRunId: victim.id })).toEqual({ workflowRunId: victim.id, status: "cancelled" });
    const results = await Promise.all(runs);
    expect(results.filter((r) => r.workflowRunId === victim.id).map((r) => r.status)).toEqual(["cancelled"]);
    expect(results.filter((r) => r.workflowRunId !== victim.id).every((r) => r.status === "succeeded")).toBe(true);
  });
});
