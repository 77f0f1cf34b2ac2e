import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { startFakeOpenAI } from "@workflows/agents/testing";
import { defineWorkflow, type WorkflowEvent } from "@workflows/core";
import { EventSource } from "eventsource";
import { afterEach, describe, expect, it } from "vitest";
import type { AppRouter } from "../src/router";
import { collect, isEnd, startTestServer, tempDir, waitFor, type Client } from "./harness";
import { startOtlpReceiver, type ReceivedSpan } from "./otlpReceiver";

const tmp = tempDir();
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

const single = defineWorkflow({ key: "single", displayName: "Single", description: "one writer step", steps: [{ name: "write", agentKey: "writer" }] });
const callerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const callerSpanId = "00f067aa0ba902b7";
const traceparent = `00-${callerTraceId}-${callerSpanId}-01`;

/** A client whose every request (HTTP and SSE) carries the caller's traceparent, as an instrumented caller's would. */
function tracedClient(url: string): Client {
  const headers = { traceparent };
  const tracedFetch: typeof fetch = (input, init) => fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers).entries()), ...headers } });
  return createTRPCClient<AppRouter>({
    links: [splitLink({ condition: (op) => op.type === "subscription", true: httpSubscriptionLink({ url, EventSource, eventSourceOptions: { fetch: tracedFetch } }), false: httpLink({ url, headers }) })],
  });
}

let n = 0;
/** A server exporting to a local receiver; spans are batched for a minute, so only the shutdown flush sends them. */
async function setup(opts: Omit<Parameters<typeof startTestServer>[0], "dbUrl" | "otlp"> = {}) {
  const receiver = await startOtlpReceiver();
  open.push(receiver);
  const t = await startTestServer({
    dbUrl: `${tmp.dbUrl}.traces-${++n}`,
    otlp: { url: receiver.url, protocol: "http/json", headers: { "x-collector-key": "k1" }, serviceName: "wf-test", scheduleDelayMs: 60_000 },
    ...opts,
  });
  let closed = false;
  open.push({ close: () => (closed ? Promise.resolve() : t.close()) });
  return {
    receiver,
    t,
    /** Closes the server as SIGTERM does, which must flush the spans, and waits for the run span to arrive. */
    shutdownAndReceive: async (workflowRunId: string): Promise<ReceivedSpan[]> => {
      closed = true;
      await t.close();
      await waitFor(() => receiver.spans.some((s) => s.attributes["workflow.run_id"] === workflowRunId && s.name.startsWith("workflow ")), 30_000);
      return receiver.spans.filter((s) => s.attributes["workflow.run_id"] === workflowRunId);
    },
  };
}

const byId = (spans: ReceivedSpan[]) => new Map(spans.map((s) => [s.spanId, s]));
/** The span and its ancestors up to the root. */
function lineage(spans: ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const index = byId(spans);
  const line: ReceivedSpan[] = [];
  for (let s: ReceivedSpan | undefined = span; s; s = index.get(s.parentSpanId)) line.push(s);
  return line;
}
/** Names from the span up to the root, e.g. ["execute_tool x", "turn 1", "invoke_agent a", ...]. */
const ancestry = (spans: ReceivedSpan[], span: ReceivedSpan) => lineage(spans, span).map((s) => s.name);

describe("OpenTelemetry export over OTLP/HTTP", () => {
  it("exports a run, its step attempts and the SDK's model spans as one tree continuing the caller's trace (workflows.run)", async () => {
    const fake = await startFakeOpenAI({ text: "written", faults: [{ type: "status", status: 500 }] });
    open.push(fake);
    const { receiver, t, shutdownAndReceive } = await setup({
      model: { provider: "openai", apiKey: "sk-test-not-real", baseURL: fake.baseURL, api: "responses", model: "gpt-fake" },
      workflows: [single],
      durability: { stepRetryBaseDelayMs: 1 },
    });
    const result = await tracedClient(t.server.url).workflows.run.mutate({ key: "single", input: "a haiku" });
    const { run } = await t.sse.runs.get.query({ workflowRunId: result.workflowRunId });
    expect(run.traceId).toBe(callerTraceId);
    const spans = await shutdownAndReceive(result.workflowRunId);

    expect(receiver.requests[0]).toMatchObject({ path: "/v1/traces", contentType: "application/json" });
    expect(receiver.requests[0]?.headers["x-collector-key"]).toBe("k1");
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([callerTraceId]));
    expect(spans[0]?.resource["service.name"]).toBe("wf-test");

    const runSpan = spans.find((s) => s.name === "workflow single")!;
    expect(runSpan.parentSpanId).toBe(callerSpanId);
    expect(runSpan.attributes).toMatchObject({ "workflow.key": "single", "workflow.run_id": result.workflowRunId, "workflow.status": "succeeded", "workflow.usage.output_tokens": 7, "gen_ai.usage.output_tokens": 7 });

    // Two attempts of the step (the first answered 500), both children of the run.
    const steps = spans.filter((s) => s.name === "step write").sort((a, b) => Number(a.attributes["workflow.step.attempt"]) - Number(b.attributes["workflow.step.attempt"]));
    expect(steps.map((s) => [s.parentSpanId, s.attributes["workflow.step.attempt"], s.attributes["workflow.step.status"], s.attributes.agent])).toEqual([
      [runSpan.spanId, 1, "retrying", "writer"],
      [runSpan.spanId, 2, "succeeded", "writer"],
    ]);
    expect(steps[0]?.status.code).toBe(2);
    expect(steps[1]?.attributes["workflow.step.usage.output_tokens"]).toBe(7);

    // Below each attempt, the SDK's own spans with their parent links: task -> agent -> turn -> model response.
    const models = spans.filter((s) => s.attributes["gen_ai.operation.name"] === "chat");
    expect(models).toHaveLength(2);
    const [failed, ok] = [models.find((s) => s.status.code === 2)!, models.find((s) => s.status.code !== 2)!];
    expect(ancestry(spans, ok)).toEqual(["chat gpt-fake", "turn 1", "invoke_agent writer", "workflows", "step write", "workflow single"]);
    expect(lineage(spans, ok).map((s) => s.spanId)).toContain(steps[1]?.spanId);
    expect(ok.attributes).toMatchObject({ "gen_ai.system": "openai", "gen_ai.request.model": "gpt-fake", "gen_ai.usage.input_tokens": 11, "gen_ai.usage.output_tokens": 7, "gen_ai.response.id": "resp_1" });
    expect(ancestry(spans, failed)).toEqual(["chat gpt-fake", "turn 1", "invoke_agent writer", "workflows", "step write", "workflow single"]);
    expect(lineage(spans, failed).map((s) => s.spanId)).toContain(steps[0]?.spanId);
    // No prompt or answer text leaves the service.
    expect(JSON.stringify(spans)).not.toContain("a haiku");
    expect(JSON.stringify(spans)).not.toContain("written");
  });

  it("exports tool spans under their turn and starts a new trace when the caller sends none (workflows.runStream)", async () => {
    const { t, shutdownAndReceive } = await setup();
    const events = (await collect(t.sse.workflows.runStream.subscribe({ key: "analysis_code", input: "numbers 1 2 3" }), { until: isEnd })).map((e) => e.data as WorkflowEvent);
    const workflowRunId = events[0]!.workflowRunId;
    expect(events[0]).toMatchObject({ type: "run.started", trace: { parentSpanId: null } });
    const { run } = await t.sse.runs.get.query({ workflowRunId });
    expect(run.traceId).toMatch(/^[0-9a-f]{32}$/);
    const spans = await shutdownAndReceive(workflowRunId);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([run.traceId]));
    const runSpan = spans.find((s) => s.name === "workflow analysis_code")!;
    expect(runSpan.parentSpanId).toBe("");
    const tool = spans.find((s) => s.name === "execute_tool compute_statistics")!;
    expect(tool.attributes).toMatchObject({ "gen_ai.tool.name": "compute_statistics", "workflow.step.index": 0 });
    expect(ancestry(spans, tool)).toEqual(["execute_tool compute_statistics", "turn 1", "invoke_agent data_analyst", "workflows", "step analyse", "workflow analysis_code"]);
    const turns = spans.filter((s) => s.name.startsWith("turn "));
    expect(turns.every((s) => s.attributes["gen_ai.system"] === "offline" && typeof s.attributes["gen_ai.usage.input_tokens"] === "number")).toBe(true);
    expect(spans.filter((s) => s.name.startsWith("step ")).map((s) => s.parentSpanId)).toEqual([runSpan.spanId, runSpan.spanId]);
  });

  it("continues the caller's trace through workflows.runStream over SSE", async () => {
    const { t, shutdownAndReceive } = await setup();
    const events = (await collect(tracedClient(t.server.url).workflows.runStream.subscribe({ key: "analysis_code", input: "numbers 4 5" }), { until: isEnd })).map((e) => e.data as WorkflowEvent);
    const workflowRunId = events[0]!.workflowRunId;
    expect((await t.sse.runs.get.query({ workflowRunId })).run.traceId).toBe(callerTraceId);
    const spans = await shutdownAndReceive(workflowRunId);
    expect(spans.find((s) => s.name === "workflow analysis_code")?.parentSpanId).toBe(callerSpanId);
  });

  it("sends nothing without an OTLP endpoint, yet every run gets a trace id", async () => {
    const t = await startTestServer({ dbUrl: `${tmp.dbUrl}.traces-none` });
    open.push(t);
    expect(t.services.telemetry.traces).toBeNull();
    const result = await tracedClient(t.server.url).workflows.run.mutate({ key: "analysis_code", input: "numbers 1 2" });
    expect((await t.sse.runs.get.query({ workflowRunId: result.workflowRunId })).run.traceId).toBe(callerTraceId);
  });
});
