import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, isEnd, startTestServer, tempDir, waitFor, type Client, type TestServer } from "./harness";

const input = "Compute the mean and standard deviation of 3, 5, 8, 13, 21 and write a function that prints them.";

let t: TestServer;
/** A second server whose offline model pauses between deltas: long enough runs to cut and cancel. */
let slow: TestServer;
const tmp = tempDir();
const slowTmp = tempDir();
beforeAll(async () => {
  t = await startTestServer({ dbUrl: tmp.dbUrl });
  slow = await startTestServer({ dbUrl: slowTmp.dbUrl, model: { provider: "offline", delayMs: 15 } });
});
afterAll(async () => {
  await t.close();
  await slow.close();
  await tmp.remove();
  await slowTmp.remove();
});

const seqs = (events: { data: { seq: number } }[]) => events.map((e) => e.data.seq);
const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("workflows.run", () => {
  it("runs analysis_code to the end and records steps and spans", async () => {
    const result = await t.sse.workflows.run.mutate({ key: "analysis_code", input });
    expect(result.status).toBe("succeeded");
    expect(result.workflowRunId).toMatch(/\S+/);
    expect(result.steps.map((s) => [s.name, s.agentKey, s.status])).toEqual([
      ["analyse", "data_analyst", "succeeded"],
      ["write_code", "code_assistant", "succeeded"],
    ]);
    for (const step of result.steps) {
      expect(step.output).toBeTruthy();
      expect(Date.parse(step.startedAt ?? "")).toBeLessThanOrEqual(Date.parse(step.endedAt ?? ""));
      expect(step.usage.requests).toBeGreaterThan(0);
    }
    expect(result.finalOutput).toBe(result.steps[1]?.output);
    expect(result.usage.totalTokens).toBe(result.steps.reduce((n, s) => n + s.usage.totalTokens, 0));

    const recorded = await t.sse.runs.get.query({ workflowRunId: result.workflowRunId });
    expect(recorded.run).toMatchObject({ id: result.workflowRunId, status: "succeeded", workflowKey: "analysis_code", input });
    expect(recorded.steps).toHaveLength(2);
    await waitFor(async () => (await t.sse.runs.get.query({ workflowRunId: result.workflowRunId })).spans.length > 0);
    const { spans } = await t.sse.runs.get.query({ workflowRunId: result.workflowRunId });
    expect(new Set(spans.map((s) => s.stepIndex))).toEqual(new Set([0, 1]));
    expect(spans.some((s) => s.kind === "function" && s.name === "compute_statistics")).toBe(true);
  });

  it("the same idempotencyKey twice returns the first run; with another input it is a CONFLICT", async () => {
    const idempotencyKey = `idem-${Date.now()}`;
    const [a, b] = await Promise.all([
      t.sse.workflows.run.mutate({ key: "analysis_code", input, idempotencyKey }),
      t.sse.workflows.run.mutate({ key: "analysis_code", input, idempotencyKey }),
    ]);
    expect(b.workflowRunId).toBe(a.workflowRunId);
    expect(b).toEqual(a);
    await expect(t.sse.workflows.run.mutate({ key: "analysis_code", input: "something else", idempotencyKey })).rejects.toMatchObject({ data: { code: "CONFLICT" } });
    await expect(t.sse.workflows.run.mutate({ key: "gated_writing", input, idempotencyKey })).rejects.toMatchObject({ data: { code: "CONFLICT" } });
    const runs = await t.sse.runs.list.query({ workflowKey: "analysis_code", limit: 100 });
    expect(runs.items.filter((r) => r.idempotencyKey === idempotencyKey)).toHaveLength(1);
  });
});

describe("runs.list", () => {
  it("pages newest first and filters by workflow and status", async () => {
    await t.sse.workflows.run.mutate({ key: "gated_writing", input: "A blog post about tide pools." });
    await t.sse.workflows.run.mutate({ key: "gated_writing", input: "A poem about ferries." });
    const first = await t.sse.runs.list.query({ workflowKey: "gated_writing", limit: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toBeTruthy();
    const second = await t.sse.runs.list.query({ workflowKey: "gated_writing", limit: 1, cursor: first.nextCursor });
    expect(second.items[0]?.id).not.toBe(first.items[0]?.id);
    expect(first.items[0]?.input).toBe("A poem about ferries.");
    expect(first.items[0]?.workflowRunId).toBe(first.items[0]?.id);
    const got = await t.sse.runs.get.query({ workflowRunId: first.items[0]!.id });
    expect(got.run.workflowRunId).toBe(first.items[0]!.id);
    const failed = await t.sse.runs.list.query({ status: "failed" });
    expect(failed.items.every((r) => r.status === "failed")).toBe(true);
  });
});

describe.each([
  ["SSE", (s: TestServer): Client => s.sse],
  ["WebSocket", (s: TestServer): Client => s.ws],
])("workflows.runStream over %s", (_name, pick) => {
  it("streams every event once, in order, and runs.events replays the same", async () => {
    const client = pick(t);
    const live = await collect(client.workflows.runStream.subscribe({ key: "analysis_code", input }), { until: isEnd });
    expect(seqs(live)).toEqual(oneToN(live.length));
    expect(live[0]?.data.type).toBe("run.started");
    expect(live.at(-1)?.data.type).toBe("run.completed");
    expect(live.some((e) => e.data.type === "step.delta")).toBe(true);
    const runId = live[0]?.data.workflowRunId ?? "";
    expect(live.every((e) => e.id === `${runId}:${e.data.seq}`)).toBe(true);

    const replay = await collect(client.runs.events.subscribe({ workflowRunId: runId }));
    expect(replay.map((e) => e.data)).toEqual(live.map((e) => e.data));
    const tail = await collect(client.runs.events.subscribe({ workflowRunId: runId, lastEventId: `${runId}:3` }));
    expect(seqs(tail)).toEqual(seqs(live).slice(3));
  });

  it("survives a dropped connection: the reconnect resumes the same run, every event exactly once", async () => {
    const client = pick(slow);
    const before = (await slow.sse.runs.list.query({ limit: 100 })).items.length;
    let dropped = false;
    const events = await collect(client.workflows.runStream.subscribe({ key: "analysis_code", input }), {
      until: isEnd,
      onValue: (_e, all) => {
        if (!dropped && all.length === 5) {
          dropped = true;
          slow.server.dropAllConnections();
        }
      },
    });
    expect(dropped).toBe(true);
    expect(seqs(events)).toEqual(oneToN(events.length));
    expect(events.at(-1)?.data.type).toBe("run.completed");
    expect(new Set(events.map((e) => e.data.workflowRunId)).size).toBe(1);
    expect((await slow.sse.runs.list.query({ limit: 100 })).items.length).toBe(before + 1);
  });
});

describe("disconnect and cancel", () => {
  it("a subscriber leaving does not cancel the run; a later subscriber sees it finish", async () => {
    const first = await collect(slow.sse.workflows.runStream.subscribe({ key: "analysis_code", input }), { until: (_e, all) => all.length === 3 });
    const runId = first[0]?.data.workflowRunId ?? "";
    const rest = await collect(slow.ws.runs.events.subscribe({ workflowRunId: runId, lastEventId: first.at(-1)?.id }));
    expect(seqs([...first, ...rest])).toEqual(oneToN(first.length + rest.length));
    expect(rest.at(-1)?.data.type).toBe("run.completed");
    expect((await slow.sse.runs.get.query({ workflowRunId: runId })).run.status).toBe("succeeded");
  });

  it("cancels a run mid-step, records it cancelled, and a finished run cannot be cancelled", async () => {
    const events: { data: { type: string; workflowRunId: string } }[] = [];
    const streamed = collect(slow.sse.workflows.runStream.subscribe({ key: "analysis_code", input }), {
      until: isEnd,
      onValue: (e) => events.push(e),
    });
    await waitFor(() => events.some((e) => e.data.type === "step.delta"));
    const runId = events[0]?.data.workflowRunId ?? "";
    const cancelled = await slow.sse.runs.cancel.mutate({ workflowRunId: runId });
    expect(cancelled).toEqual({ workflowRunId: runId, status: "cancelled" });
    const all = await streamed;
    expect(all.at(-1)?.data.type).toBe("run.cancelled");
    const recorded = await slow.sse.runs.get.query({ workflowRunId: runId });
    expect(recorded.run.status).toBe("cancelled");
    expect(recorded.steps.some((s) => s.status === "cancelled")).toBe(true);
    expect(recorded.steps.every((s) => s.status !== "running")).toBe(true);

    const again = await slow.sse.runs.cancel.mutate({ workflowRunId: runId }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(TRPCClientError);
    expect((again as TRPCClientError<never>).data).toMatchObject({ code: "CONFLICT" });
  });
});
