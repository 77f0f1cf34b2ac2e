import { testDatabaseKind } from "@workflows/db/testing";
import type { IncomingMessage } from "node:http";
import { startFakeOpenAI, type FakeOpenAI } from "@workflows/agents/testing";
import { defineWorkflow } from "@workflows/core";
import { afterEach, describe, expect, it } from "vitest";
import { startMetricsServer } from "../src/http/metrics";
import { collect, isEnd, startTestServer, tempDir, waitFor, type TestServer } from "./harness";
import { parseMetrics, valueOf, type Sample } from "./prometheus";

const tmp = tempDir();
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

const single = defineWorkflow({ key: "single", displayName: "Single", description: "one writer step", steps: [{ name: "write", agentKey: "writer" }] });

let n = 0;
async function server(opts: Omit<Parameters<typeof startTestServer>[0], "dbUrl"> = {}): Promise<TestServer> {
  const t = await startTestServer({ dbUrl: `${tmp.dbUrl}.metrics-${++n}`, ...opts });
  open.push(t);
  return t;
}

async function fake(opts: Parameters<typeof startFakeOpenAI>[0]): Promise<FakeOpenAI> {
  const f = await startFakeOpenAI({ text: "written", ...opts });
  open.push(f);
  return f;
}

const openAI = (f: FakeOpenAI) => ({ provider: "openai" as const, apiKey: "sk-test-not-real", baseURL: f.baseURL, api: "responses" as const, model: "gpt-fake" });
const origin = (t: TestServer) => t.server.url.replace(/\/trpc$/, "");

async function scrape(base: string, init: RequestInit = {}): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`${base}/metrics`, init);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parseMetrics(text) };
}

describe("GET /metrics, over HTTP on the API port", () => {
  it("moves with a run: counters, histogram buckets, model requests and tokens, with no run id in any label", async () => {
    const t = await server();
    const before = await scrape(origin(t));
    expect(valueOf(before.samples, "workflows_runs_started_total")).toBe(0);
    // The process defaults are there too.
    expect(before.samples.some((s) => s.name === "process_resident_memory_bytes")).toBe(true);
    expect(before.samples.some((s) => s.name.startsWith("nodejs_eventloop_lag"))).toBe(true);

    const result = await t.sse.workflows.run.mutate({ key: "analysis_code", input: "numbers 1 2 3 4" });
    expect(result.status).toBe("succeeded");
    const { text, samples } = await scrape(origin(t));
    const workflow = { workflow: "analysis_code" };
    expect(valueOf(samples, "workflows_runs_started_total", workflow)).toBe(1);
    expect(valueOf(samples, "workflows_runs_finished_total", { ...workflow, status: "succeeded" })).toBe(1);
    expect(valueOf(samples, "workflows_run_duration_seconds_count", { ...workflow, status: "succeeded" })).toBe(1);
    expect(valueOf(samples, "workflows_run_duration_seconds_bucket", { ...workflow, status: "succeeded", le: "+Inf" })).toBe(1);
    // Both steps, each with its own agent, landed in the step histogram.
    expect(valueOf(samples, "workflows_step_duration_seconds_count", { ...workflow, agent: "data_analyst" })).toBe(1);
    expect(valueOf(samples, "workflows_step_duration_seconds_count", { ...workflow, agent: "code_assistant" })).toBe(1);
    expect(valueOf(samples, "workflows_step_duration_seconds_bucket", { ...workflow, agent: "data_analyst", le: "+Inf" })).toBe(1);
    // The analyst calls its tool, then answers: two model turns; the code assistant answers at once.
    expect(valueOf(samples, "workflows_model_requests_total", { agent: "data_analyst", outcome: "ok" })).toBe(2);
    expect(valueOf(samples, "workflows_model_requests_total", { agent: "code_assistant", outcome: "ok" })).toBe(1);
    const recorded = await t.sse.runs.get.query({ workflowRunId: result.workflowRunId });
    const inputTokens = valueOf(samples, "workflows_tokens_total", { kind: "input" });
    expect(inputTokens).toBeGreaterThan(0);
    expect(inputTokens).toBe(recorded.run.usage.inputTokens);
    expect(valueOf(samples, "workflows_tokens_total", { kind: "output" })).toBe(recorded.run.usage.outputTokens);
    expect(valueOf(samples, "workflows_step_retries_total")).toBe(0);
    // The recorder's writes: every event of the run stored, in at least one transaction, then packed.
    expect(valueOf(samples, "workflows_recorder_events_total")).toBe(recorded.run.lastSeq);
    expect(valueOf(samples, "workflows_recorder_transactions_total")).toBeGreaterThan(0);
    expect(valueOf(samples, "workflows_recorder_pack_failures_total")).toBe(0);
    await waitFor(async () => valueOf((await scrape(origin(t))).samples, "workflows_recorder_packs_total") === 1);

    // Bounded labels: workflow and agent values come from the registry and catalog, never ids.
    expect(text).not.toContain(result.workflowRunId);
    const workflows = new Set((await t.sse.workflows.list.query()).map((w) => w.key));
    const agents = new Set((await t.sse.agents.list.query()).map((a) => a.key));
    for (const s of samples.filter((x) => x.name.startsWith("workflows_"))) {
      if (s.labels.workflow !== undefined) expect(workflows.has(s.labels.workflow) || s.labels.workflow === "other").toBe(true);
      if (s.labels.agent !== undefined) expect(agents.has(s.labels.agent) || s.labels.agent === "other").toBe(true);
    }
  });

  it("counts a retried step and the failed model request (the fake OpenAI answers 500 once)", async () => {
    const f = await fake({ faults: [{ type: "status", status: 500 }] });
    const t = await server({ model: openAI(f), workflows: [single], durability: { stepRetryBaseDelayMs: 1 } });
    const result = await t.sse.workflows.run.mutate({ key: "single", input: "a haiku" });
    expect(result.status).toBe("succeeded");
    const { samples } = await scrape(origin(t));
    expect(valueOf(samples, "workflows_step_retries_total", { workflow: "single", agent: "writer" })).toBe(1);
    expect(valueOf(samples, "workflows_model_requests_total", { agent: "writer", outcome: "error" })).toBe(1);
    expect(valueOf(samples, "workflows_model_requests_total", { agent: "writer", outcome: "ok" })).toBe(1);
    expect(valueOf(samples, "workflows_tokens_total", { agent: "writer", kind: "output" })).toBe(7);
    expect(valueOf(samples, "workflows_runs_finished_total", { workflow: "single", status: "succeeded" })).toBe(1);
  });

  it("shows runs active and pending under admission, and the open event streams", async () => {
    // On PostgreSQL the second run waits in the instances' shared queue, not for a slot of this server.
    const queuedHere = testDatabaseKind() === "sqlite" ? 1 : 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const f = await fake({ faults: () => ({ type: "wait", until: held }) });
    const t = await server({ model: openAI(f), workflows: [single], durability: { maxConcurrentRuns: 1 } });
    const gauges = async () => {
      const { samples } = await scrape(origin(t));
      return { active: valueOf(samples, "workflows_runs_active"), pending: valueOf(samples, "workflows_runs_pending"), subscribers: valueOf(samples, "workflows_event_subscribers") };
    };
    expect(await gauges()).toEqual({ active: 0, pending: 0, subscribers: 0 });
    const streams = [collect(t.sse.workflows.runStream.subscribe({ key: "single", input: "one" }), { until: isEnd, timeoutMs: 60_000 }), collect(t.sse.workflows.runStream.subscribe({ key: "single", input: "two" }), { until: isEnd, timeoutMs: 60_000 })];
    let seen = { active: -1, pending: -1, subscribers: -1 };
    await waitFor(async () => {
      seen = await gauges();
      return seen.active === 1 && seen.pending === queuedHere && seen.subscribers === 2;
    }, 30_000).catch(() => expect(seen).toEqual({ active: 1, pending: queuedHere, subscribers: 2 }));
    release();
    await Promise.all(streams);
    await waitFor(async () => (await gauges()).subscribers === 0, 30_000);
    expect(await gauges()).toEqual({ active: 0, pending: 0, subscribers: 0 });
  });

  it("is guarded by the authorize hook when one is given (AUTH_MODE=keys plugs its check in here)", async () => {
    const authorize = (req: IncomingMessage) => Promise.resolve(req.headers.authorization === "Bearer viewer-key");
    const t = await server({ edge: { metrics: { authorize } } });
    const refused = await fetch(`${origin(t)}/metrics`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ status: "unauthorized" });
    await scrape(origin(t), { headers: { authorization: "Bearer viewer-key" } });
    expect((await fetch(`${origin(t)}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("moves to its own port (METRICS_PORT): the API port no longer serves it", async () => {
    const t = await server({ edge: { metrics: false } });
    const own = await startMetricsServer({ metrics: t.services.telemetry.metrics, logger: t.services.logger }, { port: 0, host: "127.0.0.1" });
    open.push(own);
    await t.sse.workflows.run.mutate({ key: "analysis_code", input: "numbers 5 6" });
    const { samples } = await scrape(`http://127.0.0.1:${own.port}`);
    expect(valueOf(samples, "workflows_runs_started_total", { workflow: "analysis_code" })).toBe(1);
    expect((await fetch(`http://127.0.0.1:${own.port}/trpc/health.get`)).status).toBe(404);
    expect((await fetch(`${origin(t)}/metrics`)).status).toBe(404);
  });

  it("keeps one registry per server: two servers in one process count their own runs", async () => {
    const a = await server();
    const b = await server();
    await a.sse.workflows.run.mutate({ key: "analysis_code", input: "numbers 1 2" });
    expect(valueOf((await scrape(origin(a))).samples, "workflows_runs_started_total")).toBe(1);
    expect(valueOf((await scrape(origin(b))).samples, "workflows_runs_started_total")).toBe(0);
  });
});
