import { startFakeOpenAI, type FakeOpenAI } from "@workflows/agents/testing";
import { defineWorkflow, type WorkflowEvent } from "@workflows/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { collect, isEnd, rejection, startTestServer, tempDir, type TestServer } from "./harness";

const tmp = tempDir();
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});
afterAll(() => tmp.remove());

/** Three writer branches, each one model request, then a code reducer that counts what it got. */
const fanOut = defineWorkflow({
  key: "fan_out",
  displayName: "Fan out",
  description: "three model requests at once, then a code reducer",
  steps: [
    {
      kind: "parallel",
      name: "fan",
      branches: ["one", "two", "three"].map((name) => ({ name, agentKey: "writer", inputMapper: () => `write ${name}` })),
      reduce: { name: "count", kind: "code", run: (ctx) => ({ sections: ctx.previousOutput.split("## ").length - 1 }) },
    },
  ],
});

let n = 0;
async function withFake(maxConcurrentRuns: number): Promise<{ fake: FakeOpenAI; t: TestServer; release: () => void }> {
  let release: () => void = () => undefined;
  const held = new Promise((resolve) => (release = () => resolve(undefined)));
  // Every request waits until released: the fake sees how many are open at once.
  const fake = await startFakeOpenAI({ text: "written", faults: Array.from({ length: 3 }, () => ({ type: "wait", until: held }) as const) });
  open.push(fake);
  const t = await startTestServer({
    dbUrl: `${tmp.dbUrl}.language-${++n}`,
    model: { provider: "openai", apiKey: "sk-test-not-real", baseURL: fake.baseURL, api: "responses", model: "gpt-fake" },
    workflows: [fanOut],
    durability: { stepRetryBaseDelayMs: 1, maxConcurrentRuns },
  });
  open.push(t);
  return { fake, t, release };
}


describe("a parallel stage over HTTP, through the real OpenAI provider", () => {
  it("puts its three branch requests in flight at once, records each branch as a step, then reduces", async () => {
    const { fake, t, release } = await withFake(4);
    const run = t.sse.workflows.run.mutate({ key: "fan_out", input: "go" });
    // All three are held by the fake at the same time: they overlap.
    await fake.whenLogged(3);
    release();
    const result = await run;
    expect(result.status).toBe("succeeded");
    expect(fake.peakInFlight).toBe(3);
    expect(result.steps.map((s) => [s.name, s.stage, s.status])).toEqual([
      ["one", "fan", "succeeded"],
      ["two", "fan", "succeeded"],
      ["three", "fan", "succeeded"],
      ["count", "fan", "succeeded"],
    ]);
    expect(result.structuredOutput).toEqual({ sections: 3 });
  });

  it("counts its branches against MAX_CONCURRENT_RUNS: with two slots, never more than two requests in flight", async () => {
    const { fake, t, release } = await withFake(2);
    const run = t.sse.workflows.run.mutate({ key: "fan_out", input: "go" });
    await fake.whenLogged(2);
    release();
    expect((await run).status).toBe("succeeded");
    expect(fake.received).toBe(3);
    expect(fake.peakInFlight).toBe(2);
  });
});

describe("samples and typed input on the offline model, over HTTP", () => {
  let t: TestServer;
  const own = tempDir();
  beforeAll(async () => {
    t = await startTestServer({ dbUrl: own.dbUrl });
  });
  afterAll(async () => {
    await t.close();
    await own.remove();
  });

  it("publishes each workflow's input as JSON Schema: an object for parallel_review, a string for text workflows", async () => {
    const review = await t.sse.workflows.get.query({ key: "parallel_review" });
    expect(review.inputSchema).toMatchObject({ type: "object", properties: { text: { type: "string" } }, required: ["text"] });
    expect(review.steps.map((s) => [s.name, s.stage?.role])).toEqual([
      ["clarity", "branch"],
      ["accuracy", "branch"],
      ["tone", "branch"],
      ["verdict", "reduce"],
    ]);
    const listed = await t.sse.workflows.list.query();
    expect(listed.find((w) => w.key === "analysis_code")?.inputSchema).toEqual({ type: "string" });
  });

  it("refuses input that does not match the inputSchema with BAD_REQUEST and the zod issues, before any run exists", async () => {
    const before = await t.sse.runs.list.query({ workflowKey: "parallel_review" });
    const error = await rejection(t.sse.workflows.run.mutate({ key: "parallel_review", input: { text: "" } }));
    expect(error.data?.code).toBe("BAD_REQUEST");
    expect(error.message).toBe("input.text: text must not be empty");
    expect(error.data?.zodIssues?.[0]).toMatchObject({ path: ["input", "text"], code: "too_small" });
    const missing = await rejection(t.sse.workflows.run.mutate({ key: "parallel_review", input: "plain words" }));
    expect(missing.data?.code).toBe("BAD_REQUEST");
    expect((await t.sse.runs.list.query({ workflowKey: "parallel_review" })).items).toHaveLength(before.items.length);
  });

  it("runs parallel_review on { text } and streams the three reviews before the verdict", async () => {
    const events = (await collect(t.sse.workflows.runStream.subscribe({ key: "parallel_review", input: { text: "Tide pools are small worlds." } }), { until: isEnd })).map((e) => e.data as WorkflowEvent);
    expect(events.at(-1)?.type).toBe("run.completed");
    const completed = events.filter((e): e is Extract<WorkflowEvent, { type: "step.completed" }> => e.type === "step.completed").map((e) => e.stepName);
    expect(completed.slice(0, 3).sort()).toEqual(["accuracy", "clarity", "tone"]);
    expect(completed[3]).toBe("verdict");
  });

  it("runs revise_until_approved: a draft never approved goes three passes, each recorded with its iteration, then fails LOOP_EXHAUSTED", async () => {
    const result = await t.sse.workflows.run.mutate({ key: "revise_until_approved", input: "A note about tide pools. REJECT" });
    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("LOOP_EXHAUSTED");
    const { steps } = await t.sse.runs.get.query({ workflowRunId: result.workflowRunId });
    expect(steps.map((s) => [s.name, s.stage, s.iteration, s.status])).toEqual([
      ["write", "revise", 1, "succeeded"],
      ["check", "revise", 1, "succeeded"],
      ["write", "revise", 2, "succeeded"],
      ["check", "revise", 2, "succeeded"],
      ["write", "revise", 3, "succeeded"],
      ["check", "revise", 3, "succeeded"],
    ]);
    const approved = await t.sse.workflows.run.mutate({ key: "revise_until_approved", input: "A note about tide pools" });
    expect(approved.status).toBe("succeeded");
    expect(approved.steps.map((s) => s.status)).toEqual(["succeeded", "succeeded", "skipped", "skipped", "skipped", "skipped"]);
  });
});
