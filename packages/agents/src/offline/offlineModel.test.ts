import { Runner, type ModelRequest, type RunStreamEvent } from "@openai/agents-core";
import { describe, expect, it } from "vitest";
import { createDefaultCatalog, outlineVerdictSchema } from "../agents";
import { createModelProvider } from "../providers";
import { OFFLINE_MODEL_NAME, OfflineModel } from "./offlineModel";

const offlineRunner = (delayMs?: number) => new Runner({ modelProvider: createModelProvider({ provider: "offline", ...(delayMs === undefined ? {} : { delayMs }) }), tracingDisabled: true });

async function drain(stream: AsyncIterable<RunStreamEvent>): Promise<RunStreamEvent[]> {
  const events: RunStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

describe("offline model through the real Runner", () => {
  it("makes data_analyst call compute_statistics and answers with the tool's numbers (streamed)", async () => {
    const catalog = createDefaultCatalog();
    const result = await offlineRunner().run(catalog.agent("data_analyst"), "numbers: 3, 5, 10", { stream: true });
    const events = await drain(result);
    await result.completed;

    const rawTypes = events.flatMap((e) => (e.type === "raw_model_stream_event" ? [e.data.type] : []));
    expect(rawTypes.filter((t) => t === "response_started")).toHaveLength(2);
    expect(rawTypes.filter((t) => t === "output_text_delta").length).toBeGreaterThan(3);
    expect(rawTypes.filter((t) => t === "response_done")).toHaveLength(2);

    const itemNames = events.flatMap((e) => (e.type === "run_item_stream_event" ? [e.name] : []));
    expect(itemNames).toEqual(expect.arrayContaining(["tool_called", "tool_output", "message_output_created"]));
    const toolOutput = result.newItems.find((i) => i.type === "tool_call_output_item");
    expect(toolOutput?.output).toBe('{"count":3,"sum":18,"mean":6,"median":5,"min":3,"max":10,"stddev":2.94392028878}');

    expect(result.finalOutput).toMatch(/^\[offline\]/);
    for (const fragment of ["count = 3", "sum = 18", "mean = 6", "median = 5", "min = 3", "max = 10", "stddev = 2.94392028878"]) {
      expect(result.finalOutput).toContain(fragment);
    }
    const deltas = events.flatMap((e) => (e.type === "raw_model_stream_event" && e.data.type === "output_text_delta" ? [e.data.delta] : []));
    expect(deltas.join("")).toBe(result.finalOutput);
  });

  it("reports usage and response ids", async () => {
    const result = await offlineRunner().run(createDefaultCatalog().agent("data_analyst"), "[1, 2, 3]");
    expect(result.rawResponses).toHaveLength(2);
    for (const r of result.rawResponses) {
      expect(r.responseId).toMatch(/^resp_offline_/);
      expect(r.usage.inputTokens).toBeGreaterThan(0);
      expect(r.usage.outputTokens).toBeGreaterThan(0);
      expect(r.usage.totalTokens).toBe(r.usage.inputTokens + r.usage.outputTokens);
    }
    expect(result.state.usage.requests).toBe(2);
    expect(result.finalOutput).toContain("mean = 2");
  });

  it("is deterministic: the same input gives the same answer and usage", async () => {
    const run = () => offlineRunner().run(createDefaultCatalog().agent("data_analyst"), "values 4 8 15 16 23 42");
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.finalOutput).toBe(b.finalOutput);
    expect(a.state.usage.totalTokens).toBe(b.state.usage.totalTokens);
  });

  it("passes a tool error on to the user instead of failing the run", async () => {
    const result = await offlineRunner().run(createDefaultCatalog().agent("data_analyst"), "no numbers at all");
    expect(result.finalOutput).toMatch(/^\[offline\] compute_statistics reported an error: No numbers found/);
  });

  it.each([
    { message: "I was charged twice, I need a refund", expected: "billing_specialist" },
    { message: "The app shows an error and then crashes", expected: "tech_specialist" },
  ])("makes triage hand off '$message' to $expected, streamed and not", async ({ message, expected }) => {
    const catalog = createDefaultCatalog();
    const plain = await offlineRunner().run(catalog.agent("triage"), message);
    expect(plain.lastAgent?.name).toBe(expected);
    expect(plain.finalOutput).toMatch(/^\[offline\] Deterministic reply/);

    const streamed = await offlineRunner().run(catalog.agent("triage"), message, { stream: true });
    const events = await drain(streamed);
    await streamed.completed;
    expect(streamed.lastAgent?.name).toBe(expected);
    expect(events.some((e) => e.type === "run_item_stream_event" && e.name === "handoff_occurred")).toBe(true);
    expect(events.some((e) => e.type === "agent_updated_stream_event" && e.agent.name === expected)).toBe(true);
  });

  it("lets triage answer itself when no rule matches", async () => {
    const result = await offlineRunner().run(createDefaultCatalog().agent("triage"), "What are your opening hours?");
    expect(result.lastAgent?.name).toBe("triage");
    expect(result.finalOutput).toMatch(/^\[offline\]/);
  });

  it("answers outline_checker with JSON that parses with its schema: approved unless REJECT", async () => {
    const catalog = createDefaultCatalog();
    const ok = await offlineRunner().run(catalog.agent("outline_checker"), "1. Intro\n2. Body\n3. End");
    expect(outlineVerdictSchema.parse(ok.finalOutput)).toEqual({ approved: true, reason: expect.stringMatching(/^\[offline\] approved/) as unknown });

    const streamed = await offlineRunner().run(catalog.agent("outline_checker"), "1. REJECT this\n2. Body", { stream: true });
    await drain(streamed);
    await streamed.completed;
    expect(outlineVerdictSchema.parse(streamed.finalOutput).approved).toBe(false);
  });

  it("writes an outline, prose from it, and code that uses the analysis numbers", async () => {
    const catalog = createDefaultCatalog();
    const runner = offlineRunner();
    const outline = await runner.run(catalog.agent("outline_writer"), "Solar power");
    expect(outline.finalOutput).toMatch(/^\[offline\] Outline\n1\. .*Solar power/);
    const prose = await runner.run(catalog.agent("writer"), String(outline.finalOutput));
    expect(prose.finalOutput).toContain("Background and key facts about Solar power");

    const analysis = await runner.run(catalog.agent("data_analyst"), "3, 5, 10");
    const code = await runner.run(catalog.agent("code_assistant"), `Request: chart these numbers\nAnalysis: ${String(analysis.finalOutput)}`);
    expect(code.finalOutput).toContain("```ts");
    expect(code.finalOutput).toContain("mean 6");
  });

  it("takes the code's data values from the quoted original request, not from the analysis", async () => {
    const mapped = "Write code for the request below.\n\nOriginal request:\nFlag outliers in 4, 8, 400\n\nAnalysis:\nmean = 137.333, max = 400";
    const code = String((await offlineRunner().run(createDefaultCatalog().agent("code_assistant"), mapped)).finalOutput);
    expect(code).toContain('Deterministic code for: "Flag outliers in 4, 8, 400"');
    expect(code).toContain("export const values: readonly number[] = [4, 8, 400];");
    expect(code).toContain("// Statistics from the analysis: mean 137.333, max 400");
  });

  it("stops a streamed run when its signal aborts, mid-stream", async () => {
    const controller = new AbortController();
    const result = await offlineRunner(20).run(createDefaultCatalog().agent("writer"), "1. one\n2. two\n3. three", { stream: true, signal: controller.signal });
    let deltas = 0;
    const consume = (async () => {
      for await (const e of result) {
        if (e.type === "raw_model_stream_event" && e.data.type === "output_text_delta" && ++deltas === 2) controller.abort();
      }
    })();
    await consume.catch(() => undefined);
    await result.completed.catch(() => undefined);
    expect(deltas).toBeGreaterThanOrEqual(2);
    expect(deltas).toBeLessThan(6);
    expect(result.cancelled).toBe(true);
    expect(result.newItems.some((i) => i.type === "message_output_item")).toBe(false);
  });

  it("rejects with an AbortError when the signal aborts a call in flight, streamed or not", async () => {
    const model = new OfflineModel({ delayMs: 1000 });
    const request: ModelRequest = { input: "hello", modelSettings: {}, tools: [], outputType: "text", handoffs: [], tracing: false };

    const plain = new AbortController();
    const pending = model.getResponse({ ...request, signal: plain.signal });
    plain.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });

    const streamed = new AbortController();
    const iterator = model.getStreamedResponse({ ...request, signal: streamed.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: "response_started" });
    const next = iterator.next();
    streamed.abort();
    await expect(next).rejects.toMatchObject({ name: "AbortError" });
  });

  it("names itself honestly", async () => {
    const model = await createModelProvider({ provider: "offline" }).getModel("gpt-4.1");
    expect(model).toMatchObject({ name: OFFLINE_MODEL_NAME });
  });
});
