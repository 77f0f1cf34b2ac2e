import { startFakeOpenAI, type FakeFault, type FakeOpenAI } from "@workflows/agents/testing";
import { defineWorkflow, type WorkflowEvent } from "@workflows/core";
import { afterEach, describe, expect, it } from "vitest";
import { collect, isEnd, startTestServer, tempDir, waitFor, type TestServer } from "./harness";

const tmp = tempDir();
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

/** One step, one model request when all goes well: the writer answers text, no tools. */
const single = defineWorkflow({ key: "single", displayName: "Single", description: "one writer step", steps: [{ name: "write", agentKey: "writer" }] });

let n = 0;
async function setup(faults: readonly (FakeFault | null)[], durability: Parameters<typeof startTestServer>[0]["durability"] = {}): Promise<{ fake: FakeOpenAI; t: TestServer }> {
  const fake = await startFakeOpenAI({ text: "written", faults });
  open.push(fake);
  const t = await startTestServer({
    dbUrl: `${tmp.dbUrl}.faults-${++n}`,
    model: { provider: "openai", apiKey: "sk-test-not-real", baseURL: fake.baseURL, api: "responses", model: "gpt-fake" },
    workflows: [single],
    durability: { stepRetryBaseDelayMs: 1, ...durability },
  });
  open.push(t);
  return { fake, t };
}

const stream = async (t: TestServer, input = "a haiku") => (await collect(t.sse.workflows.runStream.subscribe({ key: "single", input }), { until: isEnd })).map((e) => e.data as WorkflowEvent);
const ofType = <T extends WorkflowEvent["type"]>(events: WorkflowEvent[], type: T) => events.filter((e): e is Extract<WorkflowEvent, { type: T }> => e.type === type);

describe("model faults through the real OpenAI provider, over HTTP", () => {
  it("500 twice then success: two step.retrying events and exactly three requests", async () => {
    const { fake, t } = await setup([{ type: "status", status: 500 }, { type: "status", status: 500 }]);
    const events = await stream(t);
    expect(fake.received).toBe(3);
    expect(ofType(events, "step.retrying").map((e) => [e.attempt, e.error.code, e.error.retryable])).toEqual([
      [1, "MODEL_ERROR", true],
      [2, "MODEL_ERROR", true],
    ]);
    expect(events.at(-1)).toMatchObject({ type: "run.completed", finalOutput: "written" });
    const { steps } = await t.sse.runs.get.query({ workflowRunId: events[0]!.workflowRunId });
    expect(steps[0]).toMatchObject({ status: "succeeded", attempts: 3 });
  });

  it("400: one request and a failed run", async () => {
    const { fake, t } = await setup([{ type: "status", status: 400 }]);
    const events = await stream(t);
    expect(fake.received).toBe(1);
    expect(ofType(events, "step.retrying")).toHaveLength(0);
    expect(events.at(-1)).toMatchObject({ type: "run.failed", error: { code: "MODEL_ERROR" } });
  });

  it("waits what Retry-After says, in seconds or retry-after-ms", async () => {
    const { t } = await setup([{ type: "status", status: 429, headers: { "retry-after-ms": "30" } }, { type: "status", status: 503, headers: { "retry-after": "0" } }]);
    const events = await stream(t);
    expect(ofType(events, "step.retrying").map((e) => e.delayMs)).toEqual([30, 0]);
    expect(events.at(-1)?.type).toBe("run.completed");
  });

  it("a hung request is aborted at the step timeout (the fake sees it closed) and retried as STEP_TIMEOUT", async () => {
    // Long enough that a normal answer on a loaded machine never hits it; the hung one always does.
    const { fake, t } = await setup([{ type: "hang" }], { stepTimeoutMs: 1_500 });
    const events = await stream(t);
    expect(fake.log[0]?.clientClosed).toBe(true);
    expect(ofType(events, "step.retrying")[0]?.error).toMatchObject({ code: "STEP_TIMEOUT", retryable: true });
    expect(events.at(-1)?.type).toBe("run.completed");
    expect(fake.received).toBeGreaterThanOrEqual(2);
  });

  it("a stream cut mid-response and a connection reset are retried", async () => {
    const { fake, t } = await setup([{ type: "cut", afterDeltas: 1 }, { type: "reset" }]);
    const events = await stream(t);
    expect(fake.received).toBe(3);
    expect(ofType(events, "step.retrying").map((e) => e.error.retryable)).toEqual([true, true]);
    expect(events.at(-1)?.type).toBe("run.completed");
  });

  it("eight runs under MAX_CONCURRENT_RUNS=2 never put more than two requests in flight", async () => {
    let release: () => void = () => undefined;
    const held = new Promise((resolve) => (release = () => resolve(undefined)));
    const { fake, t } = await setup(Array.from({ length: 2 }, () => ({ type: "wait", until: held }) as const), { maxConcurrentRuns: 2 });
    const runs = Array.from({ length: 8 }, (_, i) => t.sse.workflows.run.mutate({ key: "single", input: `poem ${i}` }));
    await fake.whenLogged(2);
    // Two requests are held by the fake; the other six runs are pending (once all are created), not requesting.
    await waitFor(async () => (await t.sse.runs.list.query({ workflowKey: "single", status: "pending" })).items.length === 6, 60_000);
    expect(fake.inFlight).toBe(2);
    release();
    const results = await Promise.all(runs);
    expect(results.every((r) => r.status === "succeeded")).toBe(true);
    expect(fake.received).toBe(8);
    expect(fake.peakInFlight).toBe(2);
  });
});
